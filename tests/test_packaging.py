"""The wheel, as a user installs it (`pip install .`, the Dockerfile): every module and data
file in it, and its commands working from a fresh virtual environment without `-e`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"xorgpu": "xorgpu", "cli": "xorgpu/cli", "workers": "xorgpu/workers"}  # repository folder -> in the wheel
BUILD_INPUTS = ["pyproject.toml", "setup.py", "README.md", "LICENSE", *FOLDERS]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the sources the Dockerfile copies, with this
    environment's setuptools (no download)."""
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
        copy(ROOT / name, source / name, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                            if (ROOT / name).is_dir() else {}))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                    "--wheel-dir", str(out), str(source)], check=True, capture_output=True)
    (found,) = out.glob("xorgpu-*.whl")
    return found


def shipped_files() -> set[str]:
    """Every module and data file of the repository's package folders, as the wheel names them."""
    files = set()
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".cu"):
                files.add(f"{package}/{path.relative_to(ROOT / folder).as_posix()}")
    return files


def test_the_wheel_holds_every_module_and_data_file(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = {name for name in archive.namelist() if ".dist-info/" not in name}
    expected = shipped_files()
    assert {"xorgpu/maps/train.py", "xorgpu/engines/fused_gpu.cu", "xorgpu/workers/tasks.py"} <= expected
    assert names == expected, f"missing {sorted(expected - names)}, extra {sorted(names - expected)}"


@pytest.fixture(scope="module")
def fresh_venv(wheel, tmp_path_factory) -> Path:
    """A new virtual environment with the wheel installed (not editable); the packages it
    depends on are this environment's, seen through a .pth line, so nothing is downloaded."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(subprocess.run([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps",
                    "--no-index", str(wheel)], check=True, capture_output=True)
    return venv


def run_installed(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    result = subprocess.run([str(venv / "bin" / "xorgpu"), *args], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.slow
def test_the_installed_wheel_maps_reports_and_starts_workers(fresh_venv, tmp_path):
    where = subprocess.run([fresh_venv / "bin" / "python", "-c", "import xorgpu.maps.train as m; print(m.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(fresh_venv), where  # the wheel's copy, not this checkout
    run_installed(fresh_venv, "map", "--x", "lr:0.1:10:log", "--y", "momentum:0:0.9", "--resolution", "12",
                  "--epochs", "300", "--out", "m.npz", "--png", "m.png", cwd=tmp_path)
    with np.load(tmp_path / "m.npz") as saved:
        assert saved["epochs_to_solve"].shape == (12, 12)
    report = run_installed(fresh_venv, "report", "m.npz", "-o", "m.html", cwd=tmp_path)
    assert "wrote m.html" in report.stdout and (tmp_path / "m.html").stat().st_size > 100_000
    run = run_installed(fresh_venv, "run", "--nets", "50", "--epochs", "100", "--json", cwd=tmp_path)
    assert '"nets": 50' in run.stdout
    assert "--concurrency" in run_installed(fresh_venv, "worker", "--help", cwd=tmp_path).stdout
