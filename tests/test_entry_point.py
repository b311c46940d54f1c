"""``python -m bot`` as an owner runs it: no tokens, demo shop, health check, clean stop."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.test_startup_errors import bot_env, serving_bot


def test_starts_without_tokens_and_stops_on_sigterm(tmp_path):
    with serving_bot(tmp_path, bot_env(tmp_path)) as bot:
        pass
    output, process = bot.output, bot.process
    report = json.loads(bot.body)
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
        env=bot_env(tmp_path, OWNERS="admin"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Configuration error: OWNERS: 'admin' is not of the form telegram:ID or vk:ID "
        "(ID is a number)"
    ]
