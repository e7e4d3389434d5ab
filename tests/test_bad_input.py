"""Every bad input, one line: a table of invalid invocations across all commands.

Each must end within its time limit with a non-zero exit, exactly one line on stderr
("xorgpu: error: ..."), nothing on stdout, no traceback, not the line xorgpu prints for a bug
of its own, and no file or folder left behind in the folder it ran in; and that line and
exit status must be the ones in tests/data/bad_input_messages.tsv (paths, addresses and
sizes written as placeholders), each read and judged by a person when it was added:
XORGPU_WRITE_MESSAGES=1 rewrites that file from what the commands say now, for review.
"""

from __future__ import annotations

import io
import json
import os
import re
import socketserver
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from xorgpu.cli.main import cli

from .service_helpers import free_port

UNREACHABLE = f"redis://127.0.0.1:{free_port()}/0"
MESSAGES = Path(__file__).parent / "data" / "bad_input_messages.tsv"  # name, exit status, message
CASES: list[tuple[str, list[str], dict[str, str]]] = []  # (id, args, environment)


def case(*args: str, env: dict[str, str] | None = None, name: str | None = None) -> None:
    CASES.append((name or " ".join(args).replace(UNREACHABLE, "{unreachable}")[:90], list(args), env or {}))


# --- run: counts, ranges, numbers, choices, outputs ---------------------------------------------
for value in ["0", "-5", "2.5", "many", "1e3", "99999999999999999999", "4294967297", ""]:
    case("run", "--nets", value)
for value in ["10", "5:2", "3:3", "a:b", "-1:5", "0:4294967297", "0:²", "1.5:3", " :5", "", ":", "0:" + "9" * 400]:
    case("run", "--seeds", value)
case("run", "--nets", "10", "--seeds", "0:20")
for flag, values in {
    "--hidden": ["0", "1.5", "1e12", "100000", "-1", "1025", "x"],
    "--epochs": ["0", "1e10", "99999999999999999999", "100000001", "-3", "ten"],
    "--lr": ["nan", "inf", "-0.1", "0", "abc", "1e400", "-inf"],
    "--momentum": ["1.5", "1", "-0.1", "nan", "inf"],
    "--init": ["gaussian", "uniform:1", "uniform:1:0", "uniform:a:b", "uniform:-inf:1", "", "uniform:0:nan",
               "notebook:3"],
    "--criterion": ["exact", "within:0", "within:-1", "sse:nan", "sse:", "within:abc", "sse:inf", ""],
    "--dtype": ["float16", "int"],
    "--backend": ["tpu", "cupy"],
    "--engine": ["jit"],
    "--loss-reduction": ["max"],
    "--update": ["minibatch"],
    "--sample-every": ["-1", "x"],
    "--processes": ["0", "5000", "x"],
    "--task": ["and", "parity:1", "parity:11", "parity:x", "table:012", "table:01101", ""],
    "--activation": ["softplus"],
    "--output": ["relu"],
    "--encoding": ["pm1", "-11"],
    "--loss": ["hinge"],
}.items():
    for value in values:
        case("run", "--nets", "10", flag, value)
case("run", "--nets", "10", "--update", "online", "--loss-reduction", "mean")
case("run", "--nets", "10", "--update", "online", "--engine", "fused")
case("run", "--nets", "10", "--loss", "cross-entropy", "--output", "tanh")
case("run", "--nets", "10", "--loss", "cross-entropy", "--output", "tanh", "--encoding", "pm1")
case("run", "--nets", "10", "--loss", "cross-entropy", "--output", "linear")
case("demo", "--task", "parity:12")
case("sweep", "--nets", "10", "--skip", "maybe,true")
case("sweep", "--nets", "10", "--task", "xor,parity:12")
case("run", "--nets", "10", "--epochs", "20000", "--sample-every", "1")
case("run", "--nets", "4000000000")
case("run", "--nets", "10", "--out", "/nonexistent-dir/x.npz")
case("run", "--nets", "10", "--out", "{tmp}")
case("run", "--nets", "10", "--out", "/proc/xorgpu-cannot-write-here.npz")
case("run", "--nets", "10", "--out", "{tmp}/dangling.npz")
LONG = "n" * 300  # longer than a file name may be
for command in (["run", "--nets", "10", "-o", f"{LONG}.npz"], ["report", f"{LONG}.npz"], ["plot", "{files}/good.npz", "-o", LONG],
                ["sweep", "--nets", "10", "-o", f"{LONG}.jsonl"], ["inspect", f"{LONG}.npz", "--seed", "0"]):
    case(*command, name=f"{command[0]} with a file name of 300 characters")
case("run", "--nets", "10", env={"XORGPU_BACKEND": "tpu"}, name="run XORGPU_BACKEND=tpu")
case("run", "--nets", "10", "--no-such-flag")
case("run", "extra-argument", "--nets", "10")

# --- demo -----------------------------------------------------------------------------------------
for value in ["-1", "4294967296", "x"]:
    case("demo", "--seed", value)

# --- sweep ----------------------------------------------------------------------------------------
for flag, value in [("--hidden", "2,,3"), ("--hidden", "a,b"), ("--lr", "0.1,nan"), ("--hidden", "0,2"),
                    ("--epochs", "0"), ("--momentum", "0,1"), ("--init", "counter,gauss"), ("--dtype", "float64,f16"),
                    ("--hidden", ","), ("--hidden", " "), ("--lr", "1e400")]:
    case("sweep", "--nets", "10", flag, value)
case("sweep", "--nets", "10", "--update", "online,batch", "--loss-reduction", "mean")
case("sweep", "--nets", "10", "--hidden", ",".join(str(h) for h in range(1, 101)), "--lr",
     ",".join(str(x) for x in range(1, 102)), name="sweep of 10,100 cells")
case("sweep", "--preset", "nosuch")
case("sweep", "--preset", "notebook", "--hidden", "2")
case("sweep", "--nets", "0")
case("sweep", "--nets", "10", "--out", "/nonexistent-dir/s.jsonl")
case("sweep", "--nets", "10", "--out", "{tmp}")
case("sweep", "--nets", "10", "--format", "xml")
case("sweep", "--nets", "10", "--submit", "--chunk-size", "0")
case("sweep", "--nets", "10", "--submit", "--redis-url", UNREACHABLE)
case("sweep", "--nets", "10", "--out", "{files}/garbage.jsonl")
case("sweep", "--nets", "10", "--out", "{files}/bad-row.jsonl")
case("sweep", "--seeds", "5:2")

# --- inspect, plot, report: sources that are missing, damaged or not what they claim -------------
BAD_SOURCES = ["{files}/missing.npz", "{files}", "{files}/text.npz", "{files}/empty.npz", "{files}/truncated.npz",
               "{files}/zip-bomb.npz", "{files}/zero-nets.npz", "{files}/mismatched.npz", "{files}/config-null.npz",
               "{files}/wrong-dtype.npz", "{files}/object.npz", "{files}/garbage.jsonl", "{files}/bad-row.jsonl",
               "{files}/bad-report.npz", "{files}/binary.jsonl", "not-a-job", "0123456789ab"]
for source in BAD_SOURCES:
    for command in (["inspect", source, "--seed", "0"], ["plot", source, "--out", "{tmp}/figures"],
                    ["report", source, "-o", "{tmp}/r.html"]):
        case(*command, "--redis-url", UNREACHABLE)
case("inspect", "{files}/good.npz", "--seed", "999")
case("inspect", "{files}/good.npz", "--seed", "-1")
case("inspect", "{files}/good.npz", "--seed", "0", "--every", "0")
case("inspect", "{files}/good.jsonl", "--seed", "0")
case("plot", "{files}/one-cell.jsonl", "--out", "{tmp}/figures")
case("plot", "{files}/empty.npz", name="plot empty.npz into the default folder")
case("report", "{files}/empty.npz", name="report empty.npz into the default file")
case("plot", "{files}/good.npz", "--out", "{files}/good.npz")
case("plot", "{files}/good.npz", "--out", "{files}/good.npz/under-a-file")
case("plot", "{files}/good.npz", "--out", "/proc/xorgpu-figures")
case("report", "{files}/old.npz", "-o", "{tmp}/r.html")
case("report", "{files}/good.npz", "-o", "/nonexistent-dir/r.html")
case("report", "{files}/good.npz", "-o", "{tmp}")

# --- map: axes, views, zooms, outputs --------------------------------------------------------------
MAP = ["map", "--resolution", "4", "--epochs", "5"]
for axis in ["lr", "lr:1", "lr:1:0", "lr:a:b", "lr:0:1:log", "lr:-1:1", "lr:0:1", "foo:0:1", "W1[2,0]:0:1",
             "W1[0,4]:0:1", "b1[9]:0:1", "W2[x]:0:1", "W1[0]:0:1", "momentum:0:1", "momentum:-0.1:0.5",
             "lr:1:2:sqrt", "lr:inf:1", "lr:nan:1", "lr:1:2:log:log", "", "b2:1:1",
             "lr:1:1.0000000000000002"]:
    case(*MAP, "--x", axis, "--y", "b2:0:1")
case(*MAP, "--x", "Ws[0]:0:1", "--y", "lr:0.1:1")
case(*MAP, "--x", "Ws[2]:0:1", "--y", "lr:0.1:1", "--skip")
case(*MAP, "--x", "b1[0]:0:1", "--y", "lr:0.1:1", "--no-bias")
case(*MAP, "--x", "W1[3,0]:0:1", "--y", "lr:0.1:1", "--task", "parity:3")
case(*MAP, "--x", "lr:0.1:1", "--y", "lr:1:2", name="map: the same knob on both axes")
case(*MAP, "--x", "lr:0.1:1", "--y", "lr_hidden:1:2", name="map: lr and lr_hidden together")
for value in ["0", "20000", "x"]:
    case("map", "--x", "lr:0.1:1", "--y", "b2:0:1", "--resolution", value)
for args in (["--center", "1,1"], ["--span", "1"], ["--center", "1", "--span", "1"],
             ["--center", "a,b", "--span", "1"], ["--center", "1,1", "--span", "0"],
             ["--center", "1,1", "--span", "1,2,3"], ["--center", "inf,1", "--span", "1"]):
    case("map", "--x", "lr:log", "--y", "b2", "--resolution", "4", "--epochs", "5", *args)
case("map", "--x", "lr:log", "--y", "b2", "--center", "-1,0", "--span", "1", name="map: log axis, negative centre")
case("map", "--x", "lr:0.1:1", "--y", "b2", "--center", "1,0", "--span", "1", name="map: a range with --center")
case(*MAP, "--x", "lr:0.1:1", "--y", "b2:0:1", "--seed", "-1")
for args in (["--zoom-to", "0.5,0.5"], ["--gif", "{tmp}/z.gif"], ["--zoom-to", "5,0.5", "--gif", "{tmp}/z.gif"],
             ["--zoom-to", "0.5,0.5", "--frames", "1", "--gif", "{tmp}/z.gif"],
             ["--zoom-to", "0.5,0.5", "--zoom-factor", "0.5", "--gif", "{tmp}/z.gif"],
             ["--zoom-to", "0.5", "--gif", "{tmp}/z.gif"]):
    case(*MAP, "--x", "lr:0.1:1", "--y", "b2:0:1", *args)
for flag in ("--out", "--png", "--counts-png"):
    case(*MAP, "--x", "lr:0.1:1", "--y", "b2:0:1", flag, "/nonexistent-dir/m")
    case(*MAP, "--x", "lr:0.1:1", "--y", "b2:0:1", flag, "{tmp}")

case("inspect", "{files}/map.npz", "--seed", "0")
case("compare", "{files}/map.npz", "{files}/good.npz")
for name in ("broken-map", "other-outcomes-map"):
    case("report", "{files}/" + name + ".npz", "-o", "{tmp}/r.html")

# --- outputs: the suffix names the format; one that names none is refused -------------------------
for command in (["run", "--nets", "10", "-o", "{tmp}/out.csv"], ["run", "--nets", "10", "-o", "{tmp}/out"],
                ["results", "{queued}", "-o", "{tmp}/x.txt", "--redis-url", "{redis}"],
                [*MAP, "--x", "lr:0.1:1", "--y", "b2:0:1", "--out", "{tmp}/m.parquet"],
                [*MAP, "--x", "lr:0.1:1", "--y", "b2:0:1", "--png", "{tmp}/m.jpg"],
                [*MAP, "--x", "lr:0.1:1", "--y", "b2:0:1", "--zoom-to", "0.5,0.5", "--gif", "{tmp}/z.mp4"],
                ["report", "{files}/good.npz", "-o", "{tmp}/r.pdf"], ["sweep", "--nets", "10", "-o", "{tmp}/s.json"],
                ["compare", "{files}/good.npz", "{files}/good.npz", "--report", "{tmp}/c.txt"]):
    case(*command)

# --- the service commands -------------------------------------------------------------------------
for args in (["--nets", "0"], ["--nets", "10", "--chunk-size", "0"], ["--nets", "10", "--chunk-size", "3000000"],
             ["--nets", "10", "--ttl", "0"], ["--nets", "10", "--ttl", "1e17"],
             ["--nets", "10", "--ttl", "100000000000000000"], ["--nets", "10", "--queue", ""],
             ["--nets", "10", "--queue", "a,,b"], ["--nets", "10", "--queue", "a,b"], ["--seeds", "0:4294967297"],
             ["--nets", "200000", "--chunk-size", "1"], ["--nets", "10", "--hidden", "100000"],
             ["--nets", "10", "--epochs", "1e10"]):
    case("submit", *args, "--redis-url", UNREACHABLE)
for command in (["submit", "--nets", "10"], ["status", "0123456789ab"], ["jobs"], ["worker"]):
    case(*command, "--redis-url", UNREACHABLE)
for url in ["http://x", "redis://:pw@[::1/0", "", "redis://h:99999/0", "redis://h/db", "rediss://"]:
    case("jobs", "--redis-url", url, name=f"jobs --redis-url {url!r}")
case("jobs", "--redis-url", "{http}", name="jobs --redis-url (a server that speaks HTTP)")
for where in ("{tmp}/no-such-password", "{tmp}"):
    case("jobs", "--redis-url", "{redis}", env={"XORGPU_REDIS_PASSWORD_FILE": where},
         name=f"jobs XORGPU_REDIS_PASSWORD_FILE={where}")
case("submit", "--nets", "10", env={"XORGPU_VISIBILITY_TIMEOUT": "abc", "XORGPU_REDIS_URL": "{redis}"},
     name="submit XORGPU_VISIBILITY_TIMEOUT=abc")
for command in (["status", "nosuchjob0000"], ["stats", "0123456789ab"], ["cancel", "0123456789ab"],
                ["results", "0123456789ab", "--out", "{tmp}/x.npz"], ["status", "x" * 300],
                ["results", "{queued}", "--out", "{tmp}/x.npz"], ["results", "{queued}", "--out", "/nonexistent/x.npz"],
                ["status", "../../etc/passwd"]):
    case(*command, "--redis-url", "{redis}")
for args in (["--limit", "0"], ["--limit", "x"], ["--limit", "100000"]):
    case("jobs", *args, "--redis-url", "{redis}")
for args in (["--queues", ""], ["--queues", "a,,b"], ["--concurrency", "0"], ["--hostname", ""],
             ["--hostname", "has space"], ["--loglevel", "LOUD"]):
    case("worker", *args, "--redis-url", "{redis}")
for variable, value in [("XORGPU_VISIBILITY_TIMEOUT", "abc"), ("XORGPU_VISIBILITY_TIMEOUT", "0"),
                        ("XORGPU_RECORD_PATIENCE", "-1"), ("XORGPU_LOST_CHUNK_CHECK", "1.5"), ("XORGPU_BACKEND", "tpu")]:
    case("worker", "--redis-url", "{redis}", env={variable: value}, name=f"worker {variable}={value}")
case("no-such-command")
case("--no-such-flag")
case("status")


# --- the files the cases read ---------------------------------------------------------------------


def write_npz(path: Path, **arrays: np.ndarray) -> None:
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def good_arrays(nets: int = 3) -> dict[str, np.ndarray]:
    return dict(seeds=np.arange(nets), outputs=np.full((nets, 4), 0.5), epochs_to_solve=np.full(nets, -1),
                final_loss=np.full(nets, 0.25), diverged=np.zeros(nets, bool),
                config=np.array(json.dumps({"epochs": 20})))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("inputs")
    runner = CliRunner()
    assert runner.invoke(cli, ["run", "--nets", "20", "--epochs", "30", "--out", str(folder / "good.npz")]).exit_code == 0
    assert runner.invoke(cli, ["sweep", "--nets", "10", "--epochs", "20", "--hidden", "2,3",
                               "--out", str(folder / "good.jsonl"), "--format", "json"]).exit_code == 0
    assert runner.invoke(cli, ["sweep", "--nets", "10", "--epochs", "20", "--out", str(folder / "one-cell.jsonl"),
                               "--format", "json"]).exit_code == 0
    (folder / "text.npz").write_text("these are not the arrays you are looking for\n")
    (folder / "empty.npz").write_bytes(b"")
    (folder / "truncated.npz").write_bytes((folder / "good.npz").read_bytes()[:300])
    bomb = io.BytesIO()  # 64 MiB of zeros in ~64 KiB, whose header claims 8 TB (test_files.py has a real one)
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        header = b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }"
        header += b" " * (127 - len(header)) + b"\n"
        with archive.open("outputs.npy", "w", force_zip64=True) as member:
            member.write(header)
            chunk = b"\0" * 2**20
            for _ in range(64):
                member.write(chunk)
    (folder / "zip-bomb.npz").write_bytes(bomb.getvalue())
    write_npz(folder / "zero-nets.npz", **good_arrays(0))
    write_npz(folder / "mismatched.npz", **{**good_arrays(3), "final_loss": np.zeros(5)})
    write_npz(folder / "config-null.npz", **{**good_arrays(3), "config": np.array("null")})
    write_npz(folder / "wrong-dtype.npz", **{**good_arrays(3), "outputs": np.full((3, 4), "x")})
    write_npz(folder / "old.npz", **good_arrays(3))
    write_npz(folder / "bad-report.npz", **good_arrays(3), statistics=np.array('{"nets": 3}'))
    with open(folder / "object.npz", "wb") as handle:
        np.savez(handle, **{**good_arrays(3), "seeds": np.array([object()] * 3, dtype=object)})
    assert runner.invoke(cli, ["map", "--x", "lr:0.1:1", "--y", "b2:-1:1", "--resolution", "4", "--epochs", "10",
                               "--out", str(folder / "map.npz")]).exit_code == 0
    with np.load(folder / "map.npz") as data:
        arrays = dict(data)
    write_npz(folder / "broken-map.npz", **{**arrays, "spec": np.array("{not json")})
    write_npz(folder / "other-outcomes-map.npz", **{**arrays, "outcome_names": np.array(["a", "b"])})
    (folder / "garbage.jsonl").write_text("{this is not json\n")
    (folder / "bad-row.jsonl").write_text(json.dumps({"config": {"hidden": 0}, "seeds": "0:5", "report": {}}) + "\n")
    (folder / "binary.jsonl").write_bytes(b"{\xff\xfe\x00garbage")
    return folder


@pytest.fixture(scope="module")
def http_url():
    """A server that answers whatever it is sent as an HTTP/1.1 server answers a bad request."""
    class BadRequest(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.recv(4096)
            self.request.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), BadRequest)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"redis://127.0.0.1:{server.server_address[1]}/0"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def module_redis(tmp_path_factory):
    from .service_helpers import RedisServer  # noqa: PLC0415

    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def queued_job(module_redis) -> str:
    result = CliRunner().invoke(cli, ["submit", "--nets", "10", "--redis-url", module_redis.url])
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def expected_messages() -> dict[str, tuple[int, str]]:
    rows = [line.split("\t") for line in MESSAGES.read_text().splitlines() if line]
    return {name: (int(code), message) for name, code, message in rows}


def test_the_table_is_large_enough_and_every_case_has_its_message():
    assert len(CASES) >= 150 and len({name for name, _, _ in CASES}) == len(CASES)
    if not os.environ.get("XORGPU_WRITE_MESSAGES"):
        assert sorted(expected_messages()) == sorted(name for name, _, _ in CASES)


@pytest.fixture(scope="module")
def written_messages():
    """With XORGPU_WRITE_MESSAGES=1: collects what each case says, and writes the file after."""
    found: dict[str, tuple[int, str]] = {}
    yield found
    if os.environ.get("XORGPU_WRITE_MESSAGES"):
        MESSAGES.write_text("".join(f"{name}\t{code}\t{message}\n" for name, (code, message) in sorted(found.items())))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name, args, env", CASES, ids=[name for name, _, _ in CASES])
def test_bad_input_gets_one_line(name, args, env, tmp_path, files, http_url, module_redis, queued_job, monkeypatch,
                                 written_messages):
    work = tmp_path / "work"
    work.mkdir()
    (work / "dangling.npz").symlink_to(work / "no-such-folder" / "x.npz")
    values = {"{tmp}": str(work), "{files}": str(files), "{http}": http_url, "{redis}": module_redis.url,
              "{queued}": queued_job}

    def fill(text: str) -> str:
        for key, value in values.items():
            text = text.replace(key, value)
        return text

    monkeypatch.chdir(work)
    for variable in ("XORGPU_BACKEND", "XORGPU_VISIBILITY_TIMEOUT", "XORGPU_RECORD_PATIENCE", "XORGPU_LOST_CHUNK_CHECK",
                     "XORGPU_REDIS_URL"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in env.items():
        monkeypatch.setenv(variable, fill(value))
    before = sorted(p.relative_to(work) for p in work.rglob("*"))
    inputs_before = {p: p.stat().st_mtime_ns for p in files.rglob("*")}
    result = CliRunner().invoke(cli, [fill(a) for a in args])
    assert result.exit_code != 0, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("xorgpu: error: "), result.stderr
    assert "Traceback" not in result.stderr and "a bug in xorgpu" not in result.stderr, result.stderr
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    assert sorted(p.relative_to(work) for p in work.rglob("*")) == before  # nothing made, nothing removed
    assert {p: p.stat().st_mtime_ns for p in files.rglob("*")} == inputs_before  # inputs untouched
    assert os.path.islink(work / "dangling.npz") and not (work / "no-such-folder").exists()
    said = in_placeholders(lines[0].removeprefix("xorgpu: error: "), values)
    if os.environ.get("XORGPU_WRITE_MESSAGES"):
        written_messages[name] = (result.exit_code, said)
    else:
        assert (result.exit_code, said) == expected_messages()[name]


def in_placeholders(message: str, values: dict[str, str]) -> str:
    """The message with what differs between runs written as placeholders: the folders and
    servers of the run, and sizes of memory."""
    for key, value in sorted({**values, "{unreachable}": UNREACHABLE}.items(), key=lambda kv: -len(kv[1])):
        message = message.replace(value, key)
    for key in ("{unreachable}", "{http}"):
        port = (values.get(key) or UNREACHABLE).rsplit(":", 1)[1].split("/")[0]
        message = message.replace(f"127.0.0.1:{port}", f"{key[:-1]}-address}}")
    return re.sub(r"\b\d+(\.\d+)? (GiB|MiB|KiB)\b", r"N \2", message)
