"""Outputs written whole or not at all; inputs looked at before they are loaded."""

from __future__ import annotations

import io
import os
import stat
import zipfile

import numpy as np
import pytest

from xorgpu.memory import Headroom
from xorgpu import files
from xorgpu.config import ConfigError


def test_an_interrupted_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "out.npz"
    target.write_bytes(b"earlier results")
    with pytest.raises(KeyboardInterrupt):
        with files.written_atomically(target) as handle:
            handle.write(b"half of the new")
            raise KeyboardInterrupt
    assert target.read_bytes() == b"earlier results"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.npz"]  # no temporary file left


def test_a_written_file_gets_the_mode_a_new_file_gets_or_keeps_the_old_one(tmp_path):
    old_mask = os.umask(0o027)
    try:
        new = tmp_path / "new.html"
        with files.written_atomically(new, "w") as handle:
            handle.write("x")
        assert stat.S_IMODE(new.stat().st_mode) == 0o640  # 0666 less the umask, not the temporary file's 0600
        kept = tmp_path / "kept.html"
        kept.write_text("old")
        kept.chmod(0o604)
        with files.written_atomically(kept, "w") as handle:
            handle.write("new")
        assert stat.S_IMODE(kept.stat().st_mode) == 0o604 and kept.read_text() == "new"
    finally:
        os.umask(old_mask)


def test_writing_through_a_link_writes_where_it_points(tmp_path):
    real = tmp_path / "data" / "nets.npz"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "nets.npz"
    link.symlink_to(real)
    with files.written_atomically(link) as handle:
        handle.write(b"results")
    assert link.is_symlink() and real.read_bytes() == b"results"


def test_a_dangling_link_is_refused_and_left_alone(tmp_path):
    link = tmp_path / "out.npz"
    link.symlink_to(tmp_path / "gone" / "out.npz")
    with pytest.raises(ConfigError, match="which does not exist"):
        files.check_writable(link)
    assert link.is_symlink() and not (tmp_path / "gone").exists()
    (tmp_path / "here").mkdir()
    link.unlink()
    link.symlink_to(tmp_path / "here" / "out.npz")  # its folder exists, the file not: still written nowhere
    with pytest.raises(ConfigError, match="which does not exist"):
        files.check_writable(link)
    assert not (tmp_path / "here" / "out.npz").exists()


def test_a_folder_for_figures_is_checked_without_being_made(tmp_path):
    files.check_folder(tmp_path / "figures" / "deeper")
    assert not (tmp_path / "figures").exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        files.check_folder(tmp_path / "file" / "figures")


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path, monkeypatch):
    path = tmp_path / "bomb.npz"
    with open(path, "wb") as handle:
        np.savez_compressed(handle, outputs=np.zeros((2**24, 4)))  # 512 MiB of zeros, ~0.5 MiB on disk
    assert path.stat().st_size < 2**21
    monkeypatch.setattr("xorgpu.memory.binding_limit", lambda: Headroom(2**29, "on this machine"))  # 512 MiB free
    with pytest.raises(ConfigError, match=r"^reading the arrays of .*bomb.npz would take about 512 MiB of memory, more "
                                          r"than half of the 512 MiB free on this machine: read it on a machine with"):
        files.npz_arrays(path)


def test_arrays_are_described_from_their_headers(tmp_path):
    path = tmp_path / "a.npz"
    with open(path, "wb") as handle:
        np.savez(handle, seeds=np.arange(5), outputs=np.zeros((5, 4), np.float32))
    found = files.npz_arrays(path)
    assert found == {"seeds": ((5,), np.dtype(np.int64)), "outputs": ((5, 4), np.dtype(np.float32))}
    member = io.BytesIO()
    with zipfile.ZipFile(member, "w") as archive:
        archive.writestr("notes.txt", "hello")
    (tmp_path / "b.npz").write_bytes(member.getvalue())
    with pytest.raises(ConfigError, match="is not an array"):
        files.npz_arrays(tmp_path / "b.npz")
