"""``python -m bot`` as an owner runs it: no tokens, demo shop, health check, clean stop."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM", "VK_", "YOOKASSA"))}
    env.update(
        PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/shop.db", **extra
    )
    return env


def _wait_healthy(url: str, process: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"bot exited early: {process.communicate()[0]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return response.read().decode()
        except OSError:
            time.sleep(0.1)
    pytest.fail("no /healthz answer in 30 s")


def test_starts_without_tokens_and_stops_on_sigterm(tmp_path):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=_env(tmp_path, HTTP_PORT=str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body = _wait_healthy(f"http://127.0.0.1:{port}/healthz", process)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    report = json.loads(body)
    assert report["status"] == "ok"
    assert report["database"] == {"status": "ok"}
    assert report["inbox"] == {"backlog": 0}
    assert report["outbox"] == {"backlog": 0}
    assert process.returncode == 0
    assert "Loaded the demo catalog" in output
    assert "Telegram: off (no TELEGRAM_BOT_TOKEN)" in output
    assert "VK: off (no VK_GROUP_TOKEN)" in output
    assert "Traceback" not in output
    assert "alembic" not in output  # its INFO lines at every start are noise


def test_bad_setting_stops_start_up_with_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=_env(tmp_path, OWNERS="admin"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Configuration error: OWNERS: 'admin' is not of the form telegram:ID or vk:ID "
        "(ID is a number)"
    ]
