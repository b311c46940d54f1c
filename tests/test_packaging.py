"""The shop as it is shipped: a wheel built from the checkout runs from a fresh virtual
environment (migrations included), declares what the code imports, and every version
`make` and the image install is pinned by requirements.lock."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import tomllib
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.migrate import alembic_config

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
OWN_PACKAGES = [
    name.rstrip("*") for name in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
]
SOURCES = ["pyproject.toml", "README.md", *OWN_PACKAGES]


def _requirements(*extras: str) -> list[Requirement]:
    project = PYPROJECT["project"]
    lines = list(project["dependencies"])
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


def _lock() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([A-Za-z0-9.+!-]+)", line)
        assert match, f"requirements.lock: {line!r} is not an exact pin"
        pins[canonicalize_name(match[1])] = match[2]
    return pins


def test_lock_pins_every_declared_requirement_within_its_range():
    pins = _lock()
    for requirement in _requirements("test"):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is declared but not in requirements.lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, outside {requirement}"
        )
    assert "ruff" in pins and "pytest" in pins


def test_make_installs_from_the_lock():
    makefile = (ROOT / "Makefile").read_text()
    install = [line for line in makefile.splitlines() if "pip install" in line and "-e" in line]
    assert install and all("-c $(LOCK)" in line for line in install), install
    assert re.search(r"^\$\(STAMP\):.*\$\(LOCK\)", makefile, re.M), "a new lock must reinstall"


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level modules the shipped code imports, other than its own and the stdlib."""
    found: dict[str, set[str]] = {}
    for package in OWN_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in OWN_PACKAGES:
                        found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    found.pop("__future__", None)
    return found


def test_every_imported_library_is_declared():
    declared = {canonicalize_name(r.name) for r in _requirements()}
    providers = importlib.metadata.packages_distributions()
    for module, files in sorted(_third_party_imports().items()):
        dists = {canonicalize_name(d) for d in providers.get(module, [])}
        assert dists & declared, (
            f"{module} (imported in {sorted(files)[0]}) comes from {sorted(dists) or 'nowhere'}, "
            "which pyproject.toml does not declare"
        )


# --- the wheel, installed apart from the checkout ----------------------------------------


def _run(*command: str | Path, **options: object) -> str:
    """Run a set-up step; its output is shown only when it fails."""
    args = [str(part) for part in command]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, **options)
    assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of a copy of the checkout (a build never leaves build/ in the checkout)."""
    source = tmp_path_factory.mktemp("source")
    skip = shutil.ignore_patterns("__pycache__")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=skip)
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "--no-index", "--wheel-dir", dist, source)  # fmt: skip
    (built,) = dist.glob("*.whl")
    return built


@pytest.mark.packaging
def test_wheel_holds_the_code_and_every_migration(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {"migrations/env.py", "migrations/script.py.mako", "bot/__main__.py"}
    expected |= {
        path.relative_to(ROOT).as_posix()
        for package in OWN_PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert expected - names == set()
    assert not any(name.startswith(("tests/", "bench/")) for name in names)


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment holding the wheel; the libraries it needs come from this
    interpreter's site-packages (a .pth line, added after the install), so no network."""
    root = tmp_path_factory.mktemp("venv")
    python = root / "bin" / "python"
    _run(sys.executable, "-m", "venv", "--without-pip", root)
    _run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps",
         "--no-index", wheel)  # fmt: skip
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    libraries = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    pth = Path(purelib.strip()) / "libraries-from-the-test-venv.pth"
    pth.write_text("\n".join(libraries) + "\n")
    return root


@pytest.mark.packaging
def test_wheel_declares_what_its_code_needs_and_the_lock_satisfies_it(wheel: Path):
    archive = zipfile.ZipFile(wheel)
    (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    requires = [
        Requirement(line.split(":", 1)[1])
        for line in archive.read(name).decode().splitlines()
        if line.startswith("Requires-Dist:")
    ]
    runtime = [r for r in requires if r.marker is None]
    assert {canonicalize_name(r.name) for r in runtime} >= {"requests", "vk-api", "alembic"}
    assert "jconfig" not in {canonicalize_name(r.name) for r in requires}  # vk_api ships it
    pins = _lock()
    for requirement in runtime:
        assert requirement.specifier.contains(pins[canonicalize_name(requirement.name)])


def _dockerfile_exec_form(instruction: str) -> list[str]:
    """The JSON command of a Dockerfile instruction (CMD, or HEALTHCHECK ... CMD)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    (line,) = [line for line in text.splitlines() if line.startswith(instruction + " ")]
    return json.loads(line[line.index("CMD") + 3 :])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without any shop setting and without the checkout."""
    names = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M))
    env = {k: v for k, v in os.environ.items() if k not in names and k != "PYTHONPATH"}
    return {**env, "PYTHONNOUSERSITE": "1", **settings}


@pytest.fixture
def running_bot(venv: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """The image's command run by the fresh environment's python in an empty folder."""
    port = _free_port()
    command = _dockerfile_exec_form("CMD")
    assert command[0] == "python"
    process = subprocess.Popen(
        [str(venv / "bin" / "python"), *command[1:]],
        cwd=tmp_path,
        env=_clean_env(HTTP_PORT=str(port), DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/s.db"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process, port
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def _wait_healthy(port: int, process: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the installed bot exited early: {process.communicate()[0]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                return answer.read().decode()
        except OSError:
            time.sleep(0.2)
    pytest.fail("the installed bot gave no /healthz answer in 45 s")


def _image_healthcheck(venv: Path, port: int) -> int:
    command = _dockerfile_exec_form("HEALTHCHECK")
    assert command[0] == "python"
    return subprocess.run(
        [str(venv / "bin" / "python"), *command[1:]],
        env=_clean_env(HTTP_PORT=str(port)),
        capture_output=True,
        timeout=10,
    ).returncode


@pytest.mark.packaging
def test_installed_wheel_migrates_and_serves_from_an_empty_folder(venv, running_bot, tmp_path):
    process, port = running_bot
    code = "import bot, migrations; print(bot.__file__); print(migrations.__file__)"
    where = _run(venv / "bin" / "python", "-c", code, cwd=tmp_path, env=_clean_env()).split()
    assert all(Path(path).is_relative_to(venv) for path in where), where

    assert json.loads(_wait_healthy(port, process))["status"] == "ok"
    assert _image_healthcheck(venv, port) == 0
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert "Traceback" not in output
    assert "Loaded the demo catalog" in output

    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    with sqlite3.connect(tmp_path / "s.db") as db:
        applied = {row[0] for row in db.execute("SELECT version_num FROM alembic_version")}
    assert applied == heads
    assert _image_healthcheck(venv, port) != 0  # nothing answers any more
