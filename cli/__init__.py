"""The xorgpu command line (installed as the package xorgpu.cli)."""
