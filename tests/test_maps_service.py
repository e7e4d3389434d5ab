"""Maps on the service: `map --submit` cuts a map into tiles that real Celery workers train
(a real redis-server), and the map read back equals the local one pixel for pixel."""

from __future__ import annotations

import json

import numpy as np
import pytest

from xorgpu.config import Config, SeedRange
from xorgpu.errors import ServiceError
from xorgpu.maps import Axis, MapResult, MapSpec
from xorgpu.service import map_of_job, run_chunk, submit
from xorgpu.store import JobStore

from .service_helpers import job_trained_here, one_line_error, xorgpu

MAP_ARGS = ["--x", "lr_hidden:0.02:40:log", "--y", "W2[1]:-5:5", "--resolution", 23, "--epochs", 700,
            "--backend", "numpy", "--seed", 11]


@pytest.mark.slow
def test_a_map_trained_in_tiles_by_workers_equals_the_local_map(redis_server, start_worker, tmp_path):
    start_worker("tiles-a", concurrency=2)
    start_worker("tiles-b")
    served = xorgpu("map", *MAP_ARGS, "--submit", "--chunk-size", 37, "--json", "--out", tmp_path / "served.npz",
                    url=redis_server.url)
    assert served.exit_code == 0, served.output
    local = xorgpu("map", *MAP_ARGS, "--json", "--out", tmp_path / "local.npz")
    assert local.exit_code == 0, local.output
    on_workers, here = MapResult.load(str(tmp_path / "served.npz")), MapResult.load(str(tmp_path / "local.npz"))
    assert on_workers.spec == here.spec
    for name in ("epochs_to_solve", "final_loss", "outcome"):
        np.testing.assert_array_equal(getattr(on_workers, name), getattr(here, name), err_msg=name)
    report, local_report = json.loads(served.stdout), json.loads(local.stdout)
    assert report["fractions"] == local_report["fractions"] and report["boundary"] == local_report["boundary"]
    assert len(report["provenance"]["workers"]) >= 1 and report["provenance"]["engine"] == "fused"
    assert len(np.unique(here.outcome)) >= 2  # a map with something in it


def test_reading_a_map_from_a_job_of_seeds_is_one_clear_error(redis_server, results_location):
    job = job_trained_here(redis_server.url, Config(epochs=20), SeedRange(0, 10), 5)
    with pytest.raises(ServiceError, match=rf"^job {job.id} is not a map: it trained seeds \(xorgpu submit\), not pixels$"):
        map_of_job(JobStore.from_url(redis_server.url), results_location, job)


def test_a_map_job_with_a_missing_tile_is_refused_not_drawn(redis_server, results_location):
    spec = MapSpec(Config(epochs=50), Axis.parse("lr:0.1:1", 4), Axis.parse("b2:-1:1", 4), 6)
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
