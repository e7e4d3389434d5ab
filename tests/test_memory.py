"""The memory a process may take: the machine's, its cgroup's limit (a container), its own
address-space limit; whichever binds, read by a real process under each."""

from __future__ import annotations

import resource
import subprocess
import sys

import pytest

from .service_helpers import memory_cgroup, remove_cgroup

PRINT_HEADROOM = "from xorgpu.memory import binding_limit; h = binding_limit(); print(h.bytes); print(h.what)"


def headroom_of(preexec=None) -> tuple[int, str]:  # noqa: ANN001
    shown = subprocess.run([sys.executable, "-c", PRINT_HEADROOM], capture_output=True, text=True, check=True,
                           preexec_fn=preexec).stdout.splitlines()
    return int(shown[0]), shown[1]


def test_the_machines_memory_where_nothing_else_limits():
    free, what = headroom_of()
    assert free > 0 and what == "on this machine"


def test_an_address_space_limit_binds():
    limit = 1 << 30
    free, what = headroom_of(lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)))
    assert 0 < free < limit and what == "under its address-space limit of 1.0 GiB"


def test_a_cgroups_memory_limit_binds():
    limit = 300 << 20
    cgroup = memory_cgroup(limit, "headroom")
    if cgroup is None:
        pytest.skip("no memory cgroup can be made here (not root, or no writable memory controller)")
    try:
        free, what = headroom_of(lambda: (cgroup / "cgroup.procs").write_text("0"))  # "0": the writing process
        assert 0 < free <= limit and what == "under its cgroup's limit of 300 MiB"
    finally:
        remove_cgroup(cgroup)
