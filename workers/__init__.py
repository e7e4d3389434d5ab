"""Celery workers for xorgpu jobs (installed as the package xorgpu.workers)."""
