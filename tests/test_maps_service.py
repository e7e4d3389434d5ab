"""Maps on the service: what goes wrong reading or submitting one. (That a map the workers
train in tiles equals the local one pixel for pixel: tests/test_job_equals_local.py.)"""

from __future__ import annotations


import pytest

from xorgpu.config import Config, SeedRange
from xorgpu.errors import ServiceError
from xorgpu.maps import Axis, MapSpec
from xorgpu.service import map_of_job, run_chunk, submit
from xorgpu.store import JobStore

from .service_helpers import job_trained_here, one_line_error, xorgpu

MAP_ARGS = ["--x", "lr_hidden:0.02:40:log", "--y", "W2[1]:-5:5", "--resolution", 23, "--epochs", 700,
            "--backend", "numpy", "--seed", 11]


def test_reading_a_map_from_a_job_of_seeds_is_one_clear_error(redis_server, results_location):
    job = job_trained_here(redis_server.url, Config(epochs=20), SeedRange(0, 10), 5)
    with pytest.raises(ServiceError, match=rf"^job {job.id} is not a map: it trained seeds \(xorgpu submit\), not pixels$"):
        map_of_job(JobStore.from_url(redis_server.url), results_location, job)


def test_a_map_job_with_a_missing_tile_is_refused_not_drawn(redis_server, results_location):
    spec = MapSpec(Config(epochs=50), Axis.parse("lr:0.1:1", Config()), Axis.parse("b2:-1:1", Config()), 6)
    store = JobStore.from_url(redis_server.url)
    job = submit(store, spec.config, SeedRange(0, spec.pixels), lambda *a: None,
                 chunk_size=10, map_spec=spec.to_json())
    for index, chunk in enumerate(job.chunks()):
        if index != 2:
            run_chunk(store, job.id, index, chunk.start, chunk.stop, results_store=results_location)
    job = store.get_job(job.id)
    assert job.state != "done"
    with pytest.raises(ServiceError, match=rf"^job {job.id} is running \(3 of 4 chunks\): --partial writes the chunks so far$"):
        map_of_job(store, results_location, job)


def test_submitting_a_map_to_an_unreachable_redis_is_one_line(tmp_path):
    result = xorgpu("map", *MAP_ARGS, "--submit", url="redis://127.0.0.1:1/0")
    assert "redis" in one_line_error(result).lower()
