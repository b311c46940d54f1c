"""What an operator sees: /healthz per part, /metrics moving with traffic, logs without secrets.

The health and metrics cases run the whole shop in-process against the Telegram emulator
(the e2e fixtures); the log case runs ``python -m bot`` and reads everything it printed.
"""

from __future__ import annotations

import json
import logging
import re

import aiohttp
import pytest

import bot.telegram.frontend
from bot.logs import RedactingFilter, add_secrets, handling, redact
from tests.e2e.conftest import eventually, shop, shop_settings, telegram
from tests.test_startup_errors import Emulators, bot_env, serving_bot, wait_healthy

__all__ = ["shop", "shop_settings", "telegram"]  # fixtures, used by name


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition (0 when it is not there yet)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in metrics.splitlines():
        match = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if match and ",".join(sorted((match.group(1) or "").split(","))) == wanted:
            return float(match.group(2))
    return 0.0


# /healthz


async def test_healthz_reports_each_part(shop):
    status, body = await get(f"{shop.runtime.base_url}/healthz")
    report = json.loads(body)
    assert status == 200
    assert report["status"] == "ok"
    assert report["database"] == {"status": "ok"}
    assert report["inbox"] == {"backlog": 0}
    assert report["outbox"] == {"backlog": 0}
    assert report["telegram"]["status"] == "ok"
    assert report["telegram"]["mode"] == "polling"
    assert report["telegram"]["last_ok"] is not None
    assert "vk" not in report  # not configured


async def test_healthz_is_503_while_telegram_refuses_the_token(shop, monkeypatch):
    monkeypatch.setattr(bot.telegram.frontend, "UNAUTHORIZED_RETRY_SECONDS", 0.2)
    url = f"{shop.runtime.base_url}/healthz"
    shop.emu.revoke_token(shop.token)

    async def down() -> bool:
        return (await get(url))[0] == 503

    await eventually(down)
    report = json.loads((await get(url))[1])
    assert report["status"] == "unavailable"
    assert report["telegram"]["status"] == "down"
    assert report["telegram"]["problem"] == "the token was refused"
    assert "Unauthorized" in report["telegram"]["last_error"]
    assert shop.token not in json.dumps(report)

    shop.emu.restore_token(shop.token)
    alice = shop.user()
    await alice.send("/start")  # the long poll going on returns with it
    assert alice.screen.text.startswith("Здравствуйте")

    async def up() -> bool:
        return (await get(url))[0] == 200

    await eventually(up)


async def test_health_is_unavailable_when_the_database_is_gone():
    from bot import health
    from shop.db import create_engine

    health.reset()
    engine = create_engine("postgresql+asyncpg://shop:hunter2@127.0.0.1:1/shop")
    try:
        healthy, report = await health.report(engine)
    finally:
        await engine.dispose()
    assert not healthy
    assert report["status"] == "unavailable"
    assert report["database"]["status"] == "down"
    assert "hunter2" not in json.dumps(report)


# /metrics


async def test_metrics_move_with_traffic(shop):
    url = f"{shop.runtime.base_url}/metrics"
    status, before = await get(url)
    assert status == 200
    alice = shop.user()
    await alice.send("/start")
    await alice.send("кружки")
    await alice.press("Кружка керамическая")
    latency = "shop_update_handling_seconds_count"

    async def all_three_counted() -> bool:  # counted just after the answer went out
        after = (await get(url))[1]
        return (
            sample(after, latency, channel="telegram")
            >= sample(before, latency, channel="telegram") + 3
        )

    await eventually(all_three_counted)
    after = (await get(url))[1]
    handled = "shop_updates_handled_total"
    assert (
        sample(after, handled, channel="telegram", kind="message")
        == sample(before, handled, channel="telegram", kind="message") + 2
    )
    assert (
        sample(after, handled, channel="telegram", kind="callback_query")
        == sample(before, handled, channel="telegram", kind="callback_query") + 1
    )
    assert (
        sample(after, latency, channel="telegram")
        == sample(before, latency, channel="telegram") + 3
    )
    assert sample(after, "shop_inbox_depth") == 0
    assert "shop_outbox_depth" in after
    assert "shop_orders_placed_total" in after
    assert "shop_orders_paid_total" in after


async def test_outbox_sends_are_counted_by_outcome(shop):
    from shop import outbox

    url = f"{shop.runtime.base_url}/metrics"
    before = (await get(url))[1]
    alice = shop.user()
    await alice.send("/start")
    async with shop.runtime.sessions() as session, session.begin():
        outbox.enqueue(session, "staff_alert", {"problem": "test"}, recipient=outbox.MODERATORS)

    async def counted() -> bool:
        after = (await get(url))[1]
        return sample(after, "shop_outbox_sends_total", outcome="failed") > sample(
            before, "shop_outbox_sends_total", outcome="failed"
        ) or sample(after, "shop_outbox_sends_total", outcome="ok") > sample(
            before, "shop_outbox_sends_total", outcome="ok"
        )

    await eventually(counted)


# logs


def test_redaction_masks_tokens_keys_and_secrets():
    add_secrets(["whsec_0123456789", "test_SecretKey123"])
    line = redact(
        "POST http://127.0.0.1:1/bot7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ/getUpdates "
        "https://lp.vk.com/wh1?act=a_check&key=8f3b2c1d&ts=12&wait=25 "
        "{'access_token': 'vk1.a.abcdef', 'v': '5.199'} secret whsec_0123456789 "
        "postgresql+asyncpg://shop:hunter2@db/shop auth test_SecretKey123"
    )
    for secret in ("AAHdqTcvCH1v", "8f3b2c1d", "vk1.a.abcdef", "whsec_", "hunter2", "SecretKey"):
        assert secret not in line
    assert "/bot7000000001:***/getUpdates" in line
    assert "key=***&ts=12" in line


def test_lines_logged_while_handling_name_the_update(caplog):
    record = logging.LogRecord("bot", logging.INFO, __file__, 1, "took %s", ("it",), None)
    with handling("42", "telegram:5", "telegram"):
        RedactingFilter().filter(record)
    assert record.getMessage() == "took it"
    assert (record.update_id, record.customer) == ("42", "telegram:5")


@pytest.fixture
def emulators():
    running = Emulators()
    yield running
    running.close()


def test_logs_of_a_session_never_show_a_secret(tmp_path, emulators):
    env = bot_env(
        tmp_path,
        **emulators.settings(
            TELEGRAM_WEBHOOK_SECRET="whsec-do-not-log-this-123",
            LOG_LEVEL="DEBUG",
            LOG_FORMAT="json",
        ),
    )
    with serving_bot(tmp_path, env) as bot:
        telegram = emulators.telegram
        emulators.call(telegram.drop_next, "getUpdates")  # a network fault names the URL
        alice = emulators.call(telegram.user, emulators.token, first_name="Alice")
        emulators.run(alice.send("/start"))
        emulators.call(telegram.fail_next, "sendMessage", 500)
        emulators.run(alice.send("кружки"))
        vk_user = emulators.call(emulators.vk.user, emulators.group, first_name="Вера")
        emulators.run(vk_user.send("Начать"))
        health = json.loads(wait_healthy(bot.url, bot.process))
        assert health["vk"]["status"] == "ok" and health["vk"]["mode"] == "polling"
        assert health["telegram"]["status"] == "ok" and health["telegram"]["last_ok"]
    output = bot.output
    assert bot.process.returncode == 0, output
    secrets = [
        emulators.token,
        emulators.token.split(":")[1],
        emulators.group.token,
        emulators.secret_key,
        "whsec-do-not-log-this-123",
    ]
    for secret in secrets:
        assert secret not in output
    events = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert any(event.get("update_id") and event.get("customer") for event in events)
    assert any("Telegram polling failed" in event["message"] for event in events)
