"""docker-compose.yml and the Dockerfile, checked without a Docker engine: the files through
docker-compose's own parser, and the stack's own commands (the set-up, Redis, the worker)
run here outside Docker, each with its container paths moved to a test folder."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
import pytest
import redis
import yaml

from .service_helpers import free_port, make_certificates, wait_until, xorgpu
from .test_packaging import BUILD_INPUTS

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
WORKER_COMPOSE = yaml.safe_load((ROOT / "docker-compose.worker.yml").read_text())
TLS_COMPOSE = yaml.safe_load((ROOT / "docker-compose.tls.yml").read_text())
BINARIES = Path(sys.executable).parent  # where `xorgpu` is installed


def _skip(reason: str) -> None:
    if os.environ.get("XORGPU_REQUIRE_COMPOSE") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def compose_config(*args: str) -> subprocess.CompletedProcess:
    """`docker-compose ... config` (Debian's docker-compose package) with no variable set."""
    program = shutil.which("docker-compose")
    if program is None:
        _skip("no docker-compose here to parse the compose files (Debian: apt install docker-compose)")
    return subprocess.run([program, *args, "config"], cwd=ROOT, env={"PATH": "/usr/bin:/bin"}, capture_output=True,
                          text=True)


@pytest.mark.parametrize("args", [(), ("--profile", "gpu", "--profile", "flower"),
                                  ("-f", "docker-compose.yml", "-f", "docker-compose.tls.yml")],
                         ids=["default", "all-profiles", "with-tls"])
def test_docker_compose_accepts_the_stack_with_nothing_set(args):
    result = compose_config(*args)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert {"setup", "redis", "worker"} <= set(services)
    assert {name for name, service in services.items() if "profiles" not in service} == {"setup", "redis", "worker"}


def test_a_misspelt_key_is_refused_by_the_parser(tmp_path):
    """The parser check can fail: the same file with one key misspelt is refused."""
    broken = (ROOT / "docker-compose.yml").read_text().replace("    restart: unless-stopped", "    restrat: no", 1)
    (tmp_path / "docker-compose.yml").write_text(broken)
    program = shutil.which("docker-compose") or _skip("no docker-compose here")
    result = subprocess.run([program, "config"], cwd=tmp_path, env={"PATH": "/usr/bin:/bin"}, capture_output=True,
                            text=True)
    assert result.returncode != 0 and "restrat" in result.stderr


def test_compose_files_follow_the_compose_specification():
    # tests/data/compose-spec.schema.json: the Compose Specification's JSON schema, as
    # shipped by docker-compose 1.29.2 (Apache-2.0), kept here since tests run offline.
    validator = jsonschema.Draft201909Validator(json.loads((ROOT / "tests/data/compose-spec.schema.json").read_text()))
    for compose in (COMPOSE, WORKER_COMPOSE, TLS_COMPOSE):
        validator.validate(compose)


def shell_of(service: dict, folders: dict[str, Path]) -> str:
    """A service's `sh -c` script as the container's shell runs it ($$ is compose's $), its
    container folders moved to test folders."""
    program, flag, script = service["command"][:3]
    assert (program, flag) == ("sh", "-c")
    script = script.replace("$$", "$")
    for inside, outside in folders.items():
        script = re.sub(rf"{re.escape(inside)}\b", str(outside), script)
    return script


@pytest.fixture
def stack(tmp_path):
    """The folders the stack mounts, as docker makes them on a first start: the project
    (owned by a user, uid 12345), and the results and secrets folders made by docker as root."""
    folders = {"/project": tmp_path / "project", "/results": tmp_path / "results", "/secrets": tmp_path / "secrets"}
    for folder in folders.values():
        folder.mkdir()
    os.chown(folders["/project"], 12345, 12346)
    return folders


def run_setup(folders: dict[str, Path], **env: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("the set-up service runs as root (it gives folders to their user)")
    script = shell_of(SERVICES["setup"], folders)
    subprocess.run(["sh", "-c", script], env={"PATH": "/usr/bin:/bin", **env}, check=True)


def owner(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_uid, info.st_gid


def test_the_setup_makes_a_private_password_and_folders_owned_by_the_projects_owner(stack):
    run_setup(stack)
    secret = stack["/secrets"] / "redis-password"
    password = secret.read_text()
    assert re.fullmatch(r"[0-9a-f]{64}", password)  # 32 random bytes
    assert owner(stack["/results"]) == owner(stack["/secrets"]) == owner(secret) == (12345, 12346)
    assert stat.S_IMODE(stack["/secrets"].stat().st_mode) == 0o700 and stat.S_IMODE(secret.stat().st_mode) == 0o600
    run_setup(stack)  # a restart keeps the password
    assert secret.read_text() == password


def test_the_setup_leaves_a_folder_you_made_to_you_and_never_makes_root_the_owner(stack):
    os.chown(stack["/results"], 23456, 23456)  # made by the user, before the first start
    os.chown(stack["/project"], 0, 0)  # a clone made as root
    run_setup(stack)
    assert owner(stack["/results"]) == (23456, 23456)
    assert owner(stack["/secrets"]) == (10001, 10001)
    run_setup({**stack, "/secrets": _fresh(stack["/secrets"])}, XORGPU_UID="4242", XORGPU_GID="4243")
    assert owner(stack["/secrets"]) == (4242, 4243)


def _fresh(folder: Path) -> Path:
    shutil.rmtree(folder)
    folder.mkdir()
    return folder


@pytest.mark.slow
def test_the_stack_runs_outside_docker_redis_worker_and_the_hosts_cli(stack, tmp_path):
    """The set-up, then the redis service's command (a real redis-server), its health check,
    the worker service's command (a real `xorgpu worker`, become the results folder's owner:
    root here, which can run this Python), and a job from the host with the password file."""
    os.chown(stack["/project"], 0, 0)
    os.chown(stack["/results"], 0, 0)
    run_setup(stack)
    os.chown(stack["/results"], 0, 0)  # the worker becomes this folder's owner: one who can run this Python
    port = free_port()
    env = {"PATH": f"{BINARIES}:/usr/bin:/bin", "HOME": str(tmp_path)}
    redis_script = shell_of(SERVICES["redis"], stack).replace("redis-server -", f"redis-server - --port {port}")
    server = subprocess.Popen(["sh", "-c", redis_script], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    worker = None
    try:
        password = (stack["/secrets"] / "redis-password").read_text()
        client = redis.Redis(port=port, password=password)
        wait_until(lambda: _answers(client), what="the compose redis to start")
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=port).ping()
        argv = Path(f"/proc/{server.pid}/cmdline").read_bytes()
        assert argv.startswith(b"redis-server") and password.encode() not in argv  # exec'd; no secret in argv
        health = SERVICES["redis"]["healthcheck"]["test"]
        assert health[0] == "CMD-SHELL"
        probe = shell_of({"command": ["sh", "-c", health[1]]}, stack).replace("redis-cli", f"redis-cli -p {port}")
        assert subprocess.run(["sh", "-c", probe], env=env).returncode == 0

        url = f"redis://127.0.0.1:{port}/0"
        settings = {k: v for k, v in SERVICES["worker"]["environment"].items() if "${" not in v}  # no defaults here
        worker_env = {**env, **settings, "XORGPU_REDIS_URL": url,
                      "XORGPU_REDIS_PASSWORD_FILE": str(stack["/secrets"] / "redis-password"),
                      "XORGPU_RESULTS_URL": str(stack["/results"])}
        log = open(tmp_path / "worker.log", "wb")
        worker = subprocess.Popen(["sh", "-c", shell_of(SERVICES["worker"], stack)], env=worker_env, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: b" ready." in (tmp_path / "worker.log").read_bytes() or worker.poll() is not None,
                   what="the worker to start")
        host = {"XORGPU_REDIS_PASSWORD_FILE": str(stack["/secrets"] / "redis-password"),
                "XORGPU_RESULTS_URL": str(stack["/results"])}
        done = xorgpu("submit", "--nets", 200, "--epochs", 200, "--wait", "--json", url=url, env=host)
        assert done.exit_code == 0, done.output + (tmp_path / "worker.log").read_text()[-2000:]
        assert json.loads(done.stdout)["nets"] == 200
        assert list((stack["/results"]).glob("*/chunk-*.parquet"))
        assert password not in (tmp_path / "worker.log").read_text()
    finally:
        for process in (worker, server):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(30)


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def test_workers_and_flower_reach_redis_with_the_password_file_and_run_as_the_results_owner():
    for name in ("worker", "gpu-worker", "flower"):
        service = SERVICES[name]
        environment = service["environment"]
        assert environment["XORGPU_REDIS_URL"] == "redis://redis:6379/0"  # no password in a URL
        assert environment["XORGPU_REDIS_PASSWORD_FILE"] == "/secrets/redis-password"
        assert any(v.endswith(":/secrets:ro") for v in service["volumes"])
        script = service["command"][2]
        assert 'setpriv --reuid="$$(stat -c %u /results)" --regid="$$(stat -c %g /results)"' in script
    assert SERVICES["redis"]["depends_on"]["setup"]["condition"] == "service_completed_successfully"


def test_redis_is_persistent_private_and_evicts_nothing():
    redis_service = SERVICES["redis"]
    script = redis_service["command"][2]
    flags = shlex.split(script.split("redis-server -", 1)[1].split("<<", 1)[0])
    assert flags[flags.index("--appendonly") + 1] == "yes"
    assert flags[flags.index("--maxmemory-policy") + 1] == "noeviction"
    assert any(v.endswith(":/data") for v in redis_service["volumes"])
    assert all(port.startswith("127.0.0.1:") for port in redis_service["ports"])


def test_gpu_worker_reserves_an_nvidia_gpu_and_installs_cupy():
    gpu = SERVICES["gpu-worker"]
    assert gpu["profiles"] == ["gpu"]
    device = gpu["deploy"]["resources"]["reservations"]["devices"][0]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    assert gpu["build"]["args"]["EXTRAS"] == "gpu"
    assert gpu["environment"]["XORGPU_BACKEND"] == "cupy"
    assert any("cupy" in dep for dep in PYPROJECT["project"]["optional-dependencies"]["gpu"])


def test_flower_starts_only_with_its_profile_and_credentials(tmp_path):
    flower = SERVICES["flower"]
    assert flower["profiles"] == ["flower"]
    assert flower["environment"]["FLOWER_BASIC_AUTH"] == "${XORGPU_FLOWER_AUTH:-}"  # unset: no compose error
    assert all(port.startswith("127.0.0.1:") for port in flower["ports"])
    refused = subprocess.run(["sh", "-c", shell_of(flower, {"/results": tmp_path})], capture_output=True, text=True,
                             env={"PATH": "/usr/bin:/bin", "FLOWER_BASIC_AUTH": ""})
    assert refused.returncode == 1 and "set XORGPU_FLOWER_AUTH=user:password" in refused.stderr
    assert "celery --app xorgpu.workers.app flower" in flower["command"][2]
    assert any(dep.startswith("flower") for dep in PYPROJECT["project"]["optional-dependencies"]["flower"])


@pytest.mark.parametrize("name", ["worker", "gpu-worker"])
def test_each_worker_command_is_a_real_xorgpu_command(name):
    words = shlex.split(SERVICES[name]["command"][2].replace("$$", "$"))
    command = words[words.index("xorgpu") + 1:]
    help_text = xorgpu(*command, "--help")
    assert help_text.exit_code == 0, help_text.output


def test_dockerfile_installs_the_wheel_it_builds_from_what_the_wheel_needs():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM python:3\.11", dockerfile, re.M)) == 2  # a build stage, then the image
    copied = set()
    for line in re.findall(r"^COPY (?!--from)(.+)$", dockerfile, re.M):
        *sources, _ = line.split()
        copied |= set(sources)
    assert copied == set(BUILD_INPUTS)  # what tests/test_packaging.py builds its wheel from
    assert "pip wheel" in dockerfile and re.search(r'pip install .*"\$\(ls /wheels/xorgpu-\*\.whl\)', dockerfile)
    extras = {s["build"]["args"]["EXTRAS"] for s in SERVICES.values() if isinstance(s.get("build"), dict)}
    assert extras <= set(PYPROJECT["project"]["optional-dependencies"])
    instructions = [line.split(None, 1) for line in dockerfile.splitlines() if line and not line.startswith((" ", "#"))]
    users = [i for i, (word, *_) in enumerate(instructions) if word == "USER"]
    installs = [i for i, (word, *rest) in enumerate(instructions) if word == "RUN" and "pip install" in rest[0]]
    assert users and installs and users[-1] > installs[-1]  # a plain `docker run` runs as the user made after installing
    assert instructions[users[-1]][1].strip() not in ("root", "0")


def test_an_extra_machines_worker_reaches_redis_by_tls_with_the_settings_xorgpu_reads():
    from xorgpu.settings import REDIS_TLS_FILES_ENV  # noqa: PLC0415

    for name in ("worker", "gpu-worker"):
        service = WORKER_COMPOSE["services"][name]
        environment = service["environment"]
        assert environment["XORGPU_REDIS_URL"].startswith("${XORGPU_REDIS_URL:?set XORGPU_REDIS_URL=rediss://")
        files = {environment[variable] for variable in REDIS_TLS_FILES_ENV.values()}
        assert files == {"/tls/ca.pem", "/tls/client.pem", "/tls/client.key"}
        mounts = {mount.rsplit(":", 2)[1] if mount.endswith(":ro") else mount.rsplit(":", 1)[1]
                  for mount in service["volumes"]}
        assert mounts == {"/tls", "/results"} and "depends_on" not in service  # its Redis is elsewhere


@pytest.mark.slow
def test_the_tls_redis_command_asks_for_client_certificates_and_the_password(tmp_path):
    """The override's redis command, run by sh with a real redis-server, certificates made here."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl here to make test certificates")
    tls = make_certificates(tmp_path)
    (tls / "redis.pem").write_bytes((tls / "server.pem").read_bytes())
    (tls / "redis.key").write_bytes((tls / "server.key").read_bytes())
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    password = 'p@ss w/rd "quoted" \\ back'
    (secrets / "redis-password").write_text(password)
    plain, secure = free_port(), free_port()
    script = (shell_of(TLS_COMPOSE["services"]["redis"], {"/tls": tls, "/secrets": secrets})
              .replace("redis-server -", f"redis-server - --port {plain}").replace("--tls-port 6380", f"--tls-port {secure}"))
    server = subprocess.Popen(["sh", "-c", script], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        certified = {"ssl": True, "ssl_ca_certs": str(tls / "ca.pem"), "ssl_certfile": str(tls / "client.pem"),
                     "ssl_keyfile": str(tls / "client.key")}
        client = redis.Redis(port=secure, password=password, **certified)
        wait_until(lambda: _answers(client), what="the TLS redis to start")
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=secure, **certified).ping()
        with pytest.raises(redis.ConnectionError):  # no client certificate
            redis.Redis(port=secure, password=password, ssl=True, ssl_ca_certs=str(tls / "ca.pem")).ping()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)
