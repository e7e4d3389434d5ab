"""The packages of the wheel, found rather than listed (pyproject.toml holds the rest).

The repository keeps cli/ and workers/ at its top level, but installs them inside the
xorgpu package (xorgpu.cli, xorgpu.workers), so that no generic top-level names ("cli",
"workers") land in site-packages. pyproject.toml's package finder cannot rename folders,
and a list written by hand once left out xorgpu.maps; here every package under each
folder is found, and tests/test_packaging.py checks the built wheel against the files.
"""

from setuptools import find_packages, setup

FOLDERS = {"xorgpu": "xorgpu", "xorgpu.cli": "cli", "xorgpu.workers": "workers"}  # package -> folder

setup(
    package_dir=FOLDERS,
    packages=[f"{package}.{sub}" if sub else package
              for package, folder in FOLDERS.items() for sub in ["", *find_packages(folder)]],
)
