"""Files a command writes or reads, handled so that a failure never leaves a mess.

- Outputs are checked before any work (`check_writable`, `check_folder`) and written
  under a temporary name, then renamed into place (`written_atomically`): a command that
  fails or is interrupted leaves no file, or the file that was there before. Only a new
  path or a regular file is written: a device, a FIFO or a socket is refused and left as
  it is. Writing to a symbolic link writes the file it points to; a link that points
  nowhere is an error.
- Inputs must be regular files too: a FIFO or a device would block, or never end.
- Inputs are looked at before they are loaded: `npz_arrays` reads a .npz file's table of
  contents and each array's header (shape, dtype) without reading the data, so a file that
  is damaged, not a .npz, or would take more memory than there is (a zip bomb) is refused
  with one line.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import zipfile
from pathlib import Path
from typing import IO, Iterator

import numpy as np

from .memory import check_fits
from .config import ConfigError
from .errors import first_line

MAX_INPUT_FRACTION = 0.5  # an input file may take at most this fraction of available memory


def _target(path: str | os.PathLike) -> Path:
    """Where writing `path` writes: a link's destination, resolved (it must exist)."""
    given = Path(path)
    if given.is_symlink():
        target = Path(os.path.realpath(given))
        if not target.exists():
            raise ConfigError(f"cannot write {path}: it is a link to {target}, which does not exist")
        return target
    return given


RESULTS_SUFFIXES = (".parquet", ".npz")  # per-net results files, told apart by their suffix
FIGURE_SUFFIXES = (".png", ".svg")


def check_suffix(path: str | os.PathLike, suffixes: tuple[str, ...]) -> None:
    """Refuse an output whose suffix names no format it can be written in: `-o out.csv`
    must not quietly write a zip file under that name."""
    suffix = Path(path).suffix.lower()
    if suffix not in suffixes:
        names = " or ".join(f"FILE{s}" for s in suffixes)
        raise ConfigError(f"cannot write {path}: {suffix or 'a name without a suffix'} is not a format it writes "
                          f"(name it {names})")


def check_output(path: str | os.PathLike, suffixes: tuple[str, ...]) -> None:
    """check_writable, then check_suffix: an output refused now, before any work."""
    check_writable(path)
    check_suffix(path, suffixes)


def check_writable(path: str | os.PathLike) -> None:
    """Fail now, before any work, if `path` cannot be written; create nothing."""
    target = _target(path)
    if target.is_dir():
        raise ConfigError(f"cannot write {path}: it is a folder")
    if target.exists() and not target.is_file():
        raise ConfigError(f"cannot write {path}: it is not a regular file (a device, a FIFO or a socket); "
                          "name a file")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ConfigError(f"cannot write {path}: the folder {folder} does not exist")
    if target.exists() and not os.access(target, os.W_OK):
        raise ConfigError(f"cannot write {path}: permission denied")
    _probe(folder, path)


def _probe(folder: Path, shown: object) -> None:
    """Make and remove a scratch file in `folder`: the one sure test that writing works there."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise ConfigError(f"cannot write {shown}: {(error.strerror or str(error)).lower()}") from None


@contextlib.contextmanager
def written_atomically(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """A handle to write `path`'s new content to; it replaces `path` only if the block ends
    without an error."""
    check_writable(path)
    target = _target(path)
    handle = tempfile.NamedTemporaryFile(mode, dir=target.parent, prefix=f".{target.name}.", suffix=".part",
                                         delete=False)
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())  # on disk before it has its name: a crash leaves the old file or the new
        # a temporary file is private (0600): give the result the mode a new file gets, or the old one's
        os.chmod(handle.name, target.stat().st_mode & 0o7777 if target.exists() else 0o666 & ~_umask())
        os.replace(handle.name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_folder(folder: Path) -> None:
    """Fail now if figures cannot be written into `folder` (made at the end if missing)."""
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"cannot write into {folder}: it is a file")
    _probe(folder if folder.exists() else _existing_parent(folder), f"into {folder}")


def _existing_parent(folder: Path) -> Path:
    for parent in folder.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(f"cannot write into {folder}: {parent} is a file")
            return parent
    return Path("/")


def move_into(files: list[Path], folder: Path) -> list[Path]:
    """Move finished files (written in a scratch folder) into `folder`, made if missing."""
    folder.mkdir(parents=True, exist_ok=True)
    for file in files:
        check_writable(folder / file.name)  # a FIFO or device of that name stays as it is
    moved = []
    for file in files:
        destination = folder / file.name
        os.replace(file, destination)
        moved.append(destination)
    return moved


def check_readable(path: str | os.PathLike) -> Path:
    """The path of an existing, readable file; one-line errors otherwise."""
    file = Path(path)
    if not file.exists():
        raise ConfigError(f"no such file: {path}")
    if file.is_dir():
        raise ConfigError(f"{path} is a folder, not a file")
    if not file.is_file():
        raise ConfigError(f"{path} is not a regular file (a device, a FIFO or a socket): not reading it")
    if not os.access(file, os.R_OK):
        raise ConfigError(f"cannot read {path}: permission denied")
    return file


def npz_arrays(path: str | os.PathLike) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """The shape and dtype of each array in a .npz file, read from its headers alone."""
    file = check_readable(path)
    if file.stat().st_size == 0:
        raise ConfigError(f"cannot read {path}: the file is empty")
    if not zipfile.is_zipfile(file):
        raise ConfigError(f"cannot read {path}: not a .npz file (not a zip archive)")
    arrays: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    try:
        with zipfile.ZipFile(file) as archive:
            check_fits(sum(info.file_size for info in archive.infolist()), f"reading the arrays of {path}",
                       "read it on a machine with more memory", share=MAX_INPUT_FRACTION)
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    raise ConfigError(f"cannot read {path}: {info.filename!r} is not an array")
                with archive.open(info) as member:
                    version = np.lib.format.read_magic(member)
                    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                                   else np.lib.format.read_array_header_2_0)
                    shape, _, dtype = read_header(member)  # the header only, not the data
                if dtype.hasobject:
                    raise ConfigError(f"cannot read {path}: {info.filename} holds Python objects")
                expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
                if expected > info.file_size:
                    raise ConfigError(f"cannot read {path}: {info.filename} is cut short")
                arrays[info.filename[:-4]] = (tuple(shape), dtype)
    except ConfigError:
        raise
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, NotImplementedError) as error:
        raise ConfigError(f"cannot read {path}: a damaged .npz file ({first_line(error)})") from None
    return arrays
