"""How much memory this process may still take: the least of what the machine has
available, what its cgroup allows (a container's memory limit: cgroup v2 or v1, every
level of the hierarchy), and what its own address-space limit (RLIMIT_AS) leaves.

A worker in a 400 MB container reads 400 MB here, not the host's free memory: a chunk too
large for it is refused with a reason before anything is allocated, rather than killed by
the kernel. Linux only; elsewhere, what the OS reports (or None: unknown). `check_fits` is
every refusal of work too large for that memory, in one wording.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

UNLIMITED = 1 << 60  # cgroup v1 writes "no limit" as a number near 2**63


@dataclass(frozen=True)
class Headroom:
    bytes: int
    what: str  # where that memory is free: "on this machine", "under its cgroup's limit of 400 MiB", ...


def check_fits(needed: int, subject: str, remedy: str, share: float = 1.0, room: Headroom | None = None) -> None:
    """Refuse, before any work, what would take more than `share` of the memory free now
    (room: of that headroom, e.g. a GPU's, rather than this process's): ConfigError,
    "SUBJECT would take about X of memory, more than [half of] the Y free WHERE: REMEDY"."""
    room = room or binding_limit()
    if room is None or needed <= room.bytes * share:
        return
    part = "" if share == 1 else "half of " if share == 0.5 else f"{share:.0%} of "
    raise ConfigError(f"{subject} would take about {size_text(needed)} of memory, more than {part}the "
                      f"{size_text(room.bytes)} free {room.what}: {remedy}")


def size_text(count: int) -> str:
    """Bytes in GiB, or below one in MiB, or below one MiB in KiB."""
    for unit, scale, places in (("GiB", 2**30, 1), ("MiB", 2**20, 0)):
        if count >= scale:
            return f"{count / scale:.{places}f} {unit}"
    return f"{count / 2**10:.0f} KiB"


def available_memory() -> int | None:
    """Bytes this process may still allocate, as far as it can tell; None if unknown."""
    found = binding_limit()
    return None if found is None else found.bytes


def binding_limit() -> Headroom | None:
    """The tightest of the limits that apply now, and which it is (for messages)."""
    found = [h for h in (_machine(), _cgroup(), _address_space()) if h is not None]
    return min(found, key=lambda h: h.bytes) if found else None


def _machine() -> Headroom | None:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return Headroom(int(line.split()[1]) * 1024, "on this machine")
    except OSError:
        pass
    try:
        return Headroom(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"), "on this machine")
    except (ValueError, OSError, AttributeError):
        return None


def _address_space() -> Headroom | None:
    """RLIMIT_AS less the address space already taken (VmSize)."""
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    if limit == resource.RLIM_INFINITY:
        return None
    try:
        with open("/proc/self/status") as status:
            size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    except (OSError, StopIteration, ValueError):
        return None
    return Headroom(max(0, limit - size), f"under its address-space limit of {size_text(limit)}")


def _cgroup() -> Headroom | None:
    """The least headroom over this process's memory cgroup and its ancestors: limit less
    usage (page cache that can be dropped, inactive_file, not counted as used)."""
    best: Headroom | None = None
    for folder, version in _cgroup_folders():
        limit_file, usage_file, cache_key = (("memory.max", "memory.current", "inactive_file") if version == 2 else
                                             ("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"))
        limit, usage = _number(folder / limit_file), _number(folder / usage_file)
        if limit is None or usage is None or limit >= UNLIMITED:
            continue
        used = max(0, usage - _stat(folder / "memory.stat", cache_key))
        headroom = Headroom(max(0, limit - used), f"under its cgroup's limit of {size_text(limit)}")
        if best is None or headroom.bytes < best.bytes:
            best = headroom
    return best


def _cgroup_folders() -> list[tuple[Path, int]]:
    """The folders of this process's memory cgroup and of each ancestor up to its mount."""
    try:
        memberships = Path("/proc/self/cgroup").read_text().splitlines()
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    folders = []
    for line in memberships:
        hierarchy, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        version = 2 if hierarchy == "0" and controllers == "" else 1
        if version == 1 and "memory" not in controllers.split(","):
            continue
        for mount in mounts:
            fields, _, after = mount.partition(" - ")
            parts, kind = fields.split(), after.split()
            if len(parts) < 5 or not kind:
                continue
            root, point = parts[3], parts[4]
            wanted = kind[0] == "cgroup2" if version == 2 else (kind[0] == "cgroup" and "memory" in kind[-1].split(","))
            if not wanted or not (path == root or path.startswith(root.rstrip("/") + "/") or root == "/"):
                continue
            below = path[len(root):] if root != "/" else path
            folder = Path(point) / below.lstrip("/")
            while True:
                folders.append((folder, version))
                if folder == Path(point) or folder.parent == folder:
                    break
                folder = folder.parent
            break
    return folders


def _number(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if text == "max":
        return UNLIMITED
    return int(text) if text.isdigit() else None


def _stat(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key and value.strip().isdigit():
                return int(value)
    except OSError:
        pass
    return 0
