"""docker-compose.yml and the Dockerfile, checked without a Docker engine."""

from __future__ import annotations

import json
import re
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from xorgpu.cli.main import cli

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


def test_redis_is_persistent_private_and_password_protected():
    redis = SERVICES["redis"]
    command = redis["command"]
    assert "--appendonly yes" in command and "--maxmemory-policy noeviction" in command
    assert '--requirepass "$$REDIS_PASSWORD"' in command
    assert "XORGPU_REDIS_PASSWORD:?" in redis["environment"]["REDIS_PASSWORD"]  # no default
    assert any(v.endswith(":/data") for v in redis["volumes"])
    assert all(port.startswith("127.0.0.1:") for port in redis["ports"])


def test_workers_reach_redis_with_the_password():
    for name in ("worker", "gpu-worker", "flower"):
        url = SERVICES[name]["environment"]["XORGPU_REDIS_URL"]
        assert url.startswith("redis://:${XORGPU_REDIS_PASSWORD:?") and url.endswith("@redis:6379/0")


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
    assert "USER" in dockerfile  # workers do not run as root
