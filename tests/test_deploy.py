"""docker-compose.yml and the Dockerfile, checked without a Docker engine."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import jsonschema
import pytest
import redis
import yaml
from click.testing import CliRunner

from xorgpu.cli.main import cli

from .service_helpers import free_port, make_certificates, wait_until

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_compose_file_follows_the_compose_specification():
    # tests/data/compose-spec.schema.json: the Compose Specification's JSON schema, as
    # shipped by docker-compose 1.29.2 (Apache-2.0), kept here since tests run offline.
    schema = json.loads((ROOT / "tests/data/compose-spec.schema.json").read_text())
    validator = jsonschema.Draft201909Validator(schema)
    validator.validate(COMPOSE)
    broken = {**COMPOSE, "services": {**SERVICES, "worker": {**SERVICES["worker"], "comand": "x"}}}
    assert not validator.is_valid(broken)  # the schema does reject a misspelt key


def compose_shell(script: str) -> str:
    """A compose command's shell text as the container's shell runs it ($$ is compose's $)."""
    return script.replace("$$", "$")


def redis_flags(script: str) -> list[str]:
    """The redis-server flags of a compose command (up to its here-document)."""
    return shlex.split(script.split("redis-server -", 1)[1].split("<<", 1)[0])


def test_redis_is_persistent_private_and_evicts_nothing():
    redis_service = SERVICES["redis"]
    flags = redis_flags(redis_service["command"][2])
    assert flags[flags.index("--appendonly") + 1] == "yes"
    assert flags[flags.index("--maxmemory-policy") + 1] == "noeviction"
    assert "XORGPU_REDIS_PASSWORD:?" in redis_service["environment"]["REDIS_PASSWORD"]  # no default
    assert any(v.endswith(":/data") for v in redis_service["volumes"])
    assert all(port.startswith("127.0.0.1:") for port in redis_service["ports"])


def test_the_compose_redis_takes_any_password_and_never_shows_it(tmp_path):
    """The redis service's own command, run by sh with a real redis-server (on a free port)."""
    password = 'pa"ss\\w/or#d @x?'
    port = free_port()
    script = compose_shell(SERVICES["redis"]["command"][2]).replace("redis-server -", f"redis-server - --port {port}")
    server = subprocess.Popen(["sh", "-c", script], cwd=tmp_path, env={**os.environ, "REDIS_PASSWORD": password},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        client = redis.Redis(port=port, password=password)
        wait_until(lambda: _answers(client), what="the compose redis to start")
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=port).ping()
        argv = Path(f"/proc/{server.pid}/cmdline").read_bytes()
        assert argv.startswith(b"redis-server")  # it replaced the shell: docker's SIGTERM reaches it
        assert password.encode() not in argv and not _children(server.pid)
        health = SERVICES["redis"]["healthcheck"]["test"]
        assert health[0] == "CMD-SHELL" and "-a" not in shlex.split(health[1])
        checked = subprocess.run(["sh", "-c", health[1].replace("redis-cli", f"redis-cli -p {port}")],
                                 env={**os.environ, "REDISCLI_AUTH": password})
        assert checked.returncode == 0
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def test_workers_reach_redis_with_the_password_in_its_own_variable():
    for name in ("worker", "gpu-worker", "flower"):
        environment = SERVICES[name]["environment"]
        assert environment["XORGPU_REDIS_URL"] == "redis://redis:6379/0"  # no password in a URL
        assert environment["XORGPU_REDIS_PASSWORD"].startswith("${XORGPU_REDIS_PASSWORD:?")


def test_gpu_worker_reserves_an_nvidia_gpu_and_installs_cupy():
    gpu = SERVICES["gpu-worker"]
    assert gpu["profiles"] == ["gpu"]
    device = gpu["deploy"]["resources"]["reservations"]["devices"][0]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    assert gpu["build"]["args"]["EXTRAS"] == "gpu"
    assert gpu["environment"]["XORGPU_BACKEND"] == "cupy"
    assert any("cupy" in dep for dep in PYPROJECT["project"]["optional-dependencies"]["gpu"])


def test_flower_is_optional_and_behind_basic_auth():
    flower = SERVICES["flower"]
    assert flower["profiles"] == ["flower"]
    assert "XORGPU_FLOWER_AUTH:?" in flower["environment"]["FLOWER_BASIC_AUTH"]
    assert all(port.startswith("127.0.0.1:") for port in flower["ports"])


@pytest.mark.parametrize("name", ["worker", "gpu-worker", "flower"])
def test_each_command_resolves_to_a_real_entry_point(name):
    program, *args = SERVICES[name]["command"]
    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    assert program in scripts, f"{program} is not an installed console script"
    if program == "xorgpu":
        assert scripts["xorgpu"] == PYPROJECT["project"]["scripts"]["xorgpu"]
        result = CliRunner().invoke(cli, [*args, "--help"])  # every flag used is accepted
        assert result.exit_code == 0, result.output
    else:
        app_module = args[args.index("--app") + 1]
        module = __import__(app_module, fromlist=["app"])
        assert module.app.main == "xorgpu"
        extras = SERVICES[name]["build"]["args"]["EXTRAS"]
        assert any(dep.startswith("flower") for dep in PYPROJECT["project"]["optional-dependencies"][extras])


def test_dockerfile_copies_what_exists_and_installs_the_extras():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", dockerfile, re.M)
    for line in re.findall(r"^COPY (.+)$", dockerfile, re.M):
        *sources, _ = line.split()
        for source in sources:
            assert (ROOT / source).exists(), source
    package_dirs = set(PYPROJECT["tool"]["setuptools"]["package-dir"].values())
    copied = {line.split()[0] for line in re.findall(r"^COPY (.+)$", dockerfile, re.M)}
    assert package_dirs <= copied
    extras = {s["build"]["args"]["EXTRAS"] for s in SERVICES.values()
              if isinstance(s.get("build"), dict)}
    assert extras <= set(PYPROJECT["project"]["optional-dependencies"])
    instructions = [line.split(None, 1) for line in dockerfile.splitlines() if line and not line.startswith((" ", "#"))]
    users = [i for i, (word, *_) in enumerate(instructions) if word == "USER"]
    installs = [i for i, (word, *rest) in enumerate(instructions) if word == "RUN" and "pip install" in rest[0]]
    assert users and installs and users[-1] > installs[-1]  # workers run as the user made after installing
    assert instructions[users[-1]][1].strip() not in ("root", "0")


def test_workers_write_results_to_a_host_folder_they_name_as_theirs():
    for name in ("worker", "gpu-worker"):
        service = SERVICES[name]
        (mount,) = service["volumes"]
        host, container = mount.rsplit(":", 1)
        assert service["environment"]["XORGPU_RESULTS_URL"] == container  # where the share is, inside
        assert "XORGPU_RESULTS_DIR" in host and service["user"].startswith("${XORGPU_UID")  # the host reads them


WORKER_COMPOSE = yaml.safe_load((ROOT / "docker-compose.worker.yml").read_text())
TLS_COMPOSE = yaml.safe_load((ROOT / "docker-compose.tls.yml").read_text())


def test_the_extra_compose_files_follow_the_compose_specification():
    schema = json.loads((ROOT / "tests/data/compose-spec.schema.json").read_text())
    validator = jsonschema.Draft201909Validator(schema)
    validator.validate(WORKER_COMPOSE)
    validator.validate(TLS_COMPOSE)


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


def test_the_tls_redis_command_asks_for_client_certificates_and_the_password(tmp_path):
    """The override's redis command, run by sh with a real redis-server, certificates made here."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl here to make test certificates")
    tls = make_certificates(tmp_path)
    (tls / "redis.pem").write_bytes((tls / "server.pem").read_bytes())
    (tls / "redis.key").write_bytes((tls / "server.key").read_bytes())
    password, plain, secure = "p@ss w/rd", free_port(), free_port()
    script = (compose_shell(TLS_COMPOSE["services"]["redis"]["command"][2]).replace("/tls/", f"{tls}/")
              .replace("redis-server -", f"redis-server - --port {plain}").replace("--tls-port 6380", f"--tls-port {secure}"))
    server = subprocess.Popen(["sh", "-c", script], cwd=tmp_path, env={**os.environ, "REDIS_PASSWORD": password},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
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
