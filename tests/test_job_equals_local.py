"""What the workers train equals what this process trains, net for net: a job (`submit`),
a sweep (`sweep --submit`) and a map (`map --submit`), each cut into chunks that do not
divide it evenly, on two real Celery workers of different kinds (one with two pool
processes; the other's numba compiles the fused kernels for a generic x86-64 CPU, without
FMA instructions) and a real redis-server, shared by the cases. The job trains the notebook's net; the sweep and the map
nets of the family (parity of 3 bits with cross-entropy; tanh units, a linear output,
pm1 and skip weights)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from xorgpu.maps import MapResult

from .service_helpers import RedisServer, Worker, xorgpu

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

RUN = ["--seeds", "100:700", "--epochs", 1500, "--hidden", 3, "--backend", "numpy"]
SWEEP = ["--nets", 300, "--hidden", "2,3", "--update", "batch,online", "--epochs", 500, "--format", "json",
         "--backend", "numpy", "--task", "parity:3", "--loss", "cross-entropy", "--lr", 0.5]
MAP = ["--x", "lr_hidden:0.02:40:log", "--y", "Ws[1]:-5:5", "--resolution", 23, "--epochs", 700, "--backend",
       "numpy", "--seed", 11, "--activation", "tanh", "--output", "linear", "--encoding", "pm1", "--skip",
       "--init", "uniform:-1:1", "--lr", 0.05]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """(redis URL, results folder): a redis-server and two workers, for every case here."""
    folder = tmp_path_factory.mktemp("service")
    results = folder / "results"
    results.mkdir()
    server = RedisServer(folder).start()
    env = {"XORGPU_RESULTS_URL": str(results)}
    generic_cpu = {**env, "NUMBA_CPU_NAME": "generic", "NUMBA_CACHE_DIR": str(folder / "generic-cpu-cache")}
    workers = [Worker(server.url, "pair", folder, concurrency=2, env=env),
               Worker(server.url, "solo", folder, env=generic_cpu)]
    for worker in workers:
        worker.wait_ready()
    yield server.url, str(results)
    for worker in workers:
        worker.stop()
    server.stop()


def same_run(url, tmp_path):
    submitted = xorgpu("submit", *RUN, "--chunk-size", 137, "--wait", "--json", url=url)
    assert submitted.exit_code == 0, submitted.output
    report, local = json.loads(submitted.stdout), json.loads(xorgpu("run", *RUN, "--json").stdout)
    apart = ("job_id", "state", "provenance", "final_loss")  # a job's loss quantiles come from its merged sketch
    assert {k: v for k, v in report.items() if k not in apart} == {k: v for k, v in local.items() if k not in apart}
    for q in ("p10", "median", "p90"):
        assert report["final_loss"][q] == pytest.approx(local["final_loss"][q], rel=0.01)
    assert report["provenance"]["workers"] and report["provenance"]["engine"] == local["provenance"]["engine"]
    out, local_out = tmp_path / "job.npz", tmp_path / "local.npz"
    assert xorgpu("results", report["job_id"], "--out", out, url=url).exit_code == 0
    assert xorgpu("run", *RUN, "--out", local_out).exit_code == 0
    with np.load(out, allow_pickle=False) as job, np.load(local_out, allow_pickle=False) as run:
        for name in ("seeds", "outputs", "epochs_to_solve", "final_loss", "diverged", "outcome", "config"):
            np.testing.assert_array_equal(job[name], run[name], err_msg=name)
    status = json.loads(xorgpu("status", report["job_id"], "--json", url=url).stdout)
    assert (status["state"], status["nets_done"], status["chunks_total"]) == ("done", 600, 5)
    assert any(line.startswith(report["job_id"]) and " done " in line for line in xorgpu("jobs", url=url).stdout.splitlines())


def same_sweep(url, tmp_path):
    remote = xorgpu("sweep", *SWEEP, "--submit", "--chunk-size", 70, "--out", tmp_path / "remote.jsonl", url=url)
    assert remote.exit_code == 0, remote.output
    local = xorgpu("sweep", *SWEEP, "--out", tmp_path / "local.jsonl")
    assert json.loads(remote.stdout) == json.loads(local.stdout) and len(json.loads(local.stdout)) == 4


def same_map(url, tmp_path):
    served = xorgpu("map", *MAP, "--submit", "--chunk-size", 37, "--json", "--out", tmp_path / "served.npz", url=url)
    assert served.exit_code == 0, served.output
    local = xorgpu("map", *MAP, "--json", "--out", tmp_path / "local.npz")
    assert local.exit_code == 0, local.output
    on_workers, here = MapResult.load(str(tmp_path / "served.npz")), MapResult.load(str(tmp_path / "local.npz"))
    assert on_workers.spec == here.spec
    for name in ("epochs_to_solve", "final_loss", "outcome"):
        np.testing.assert_array_equal(getattr(on_workers, name), getattr(here, name), err_msg=name)
    report, local_report = json.loads(served.stdout), json.loads(local.stdout)
    assert report["fractions"] == local_report["fractions"] and report["boundary"] == local_report["boundary"]
    assert len(report["provenance"]["workers"]) >= 1 and report["provenance"]["engine"] == "fused"
    assert len(np.unique(here.outcome)) >= 2  # a map with something in it


@pytest.mark.parametrize("check", [same_run, same_sweep, same_map], ids=["submit", "sweep", "map"])
def test_the_workers_train_what_this_process_trains(check, service, tmp_path, monkeypatch):
    url, results = service
    monkeypatch.setenv("XORGPU_RESULTS_URL", results)  # where the workers write, for the commands that read
    check(url, tmp_path)
