"""The outbox delivered by real ``python -m bot`` processes that die:

- ``kill -9`` in the middle of a batch of 200 (Telegram and VK); after a restart on the same
  database nothing is lost, Telegram shows at most one message twice (the one in flight),
  VK none (its random_id comes from the message);
- two processes on PostgreSQL without Redis: one holds the sending role (an advisory lock),
  the other stands by; 1,000 messages go out with none lost or doubled and never above the
  bot-wide rate, and when the holder is killed the other takes over and finishes.
"""

from __future__ import annotations

import asyncio
import collections
import json
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from handlers.screens import Screen, screen_to_payload
from shop import outbox
from shop.db import create_engine, create_session_factory
from shop.models import OutboxMessage, OutboxStatus
from tests.conftest import _truncate_all, run_apart
from tests.emulators.telegram import RateLimits, most_in_a_window
from tests.test_startup_errors import Emulators, bot_env, free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def emulators() -> Iterator[Emulators]:
    running = Emulators()
    yield running
    running.close()


@dataclass
class Bot:
    process: subprocess.Popen[str]
    port: str

    def sending(self) -> bool:
        """Whether it says (in /healthz) that it holds the sending role."""
        url = f"http://127.0.0.1:{self.port}/healthz"
        with urllib.request.urlopen(url, timeout=5) as answer:
            return bool(json.loads(answer.read())["sending"] == "here")


def start_bot(env: dict[str, str], log: Path) -> Bot:
    """``python -m bot`` with its output in ``log``, once /healthz answers."""
    port = str(free_port())
    with log.open("a") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=log.parent,
            env={**env, "HTTP_PORT": port},
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    wait_healthy(f"http://127.0.0.1:{port}/healthz", process)
    return Bot(process, port)


def stop(bot: Bot) -> None:
    process = bot.process
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


async def until(check: Callable[[], bool], within: float, what: str) -> None:
    """Wait for ``check`` (polled), failing with ``what`` after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        if loop.time() > deadline:
            pytest.fail(f"not within {within} s: {what}")
        await asyncio.sleep(0.05)


async def queue(url: str, recipients: list[str], text: str) -> None:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            for n, recipient in enumerate(recipients):
                payload = {"screen": screen_to_payload(Screen(f"{text} {n}"))}
                outbox.enqueue(session, "screen", payload, recipient=recipient)
    finally:
        await engine.dispose()


async def settled(url: str) -> None:
    """Until every message is recorded as sent (a send is recorded just after it)."""
    for _ in range(100):
        if await unsent(url) == 0:
            return
        await asyncio.sleep(0.1)
    assert await unsent(url) == 0


async def unsent(url: str) -> int:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            query = select(func.count(OutboxMessage.id)).where(
                OutboxMessage.kind == "screen", OutboxMessage.status != OutboxStatus.SENT
            )
            return int(await session.scalar(query) or 0)
    finally:
        await engine.dispose()


async def test_kill_9_in_a_batch_loses_nothing(emulators: Emulators, tmp_path: Path) -> None:
    telegram, vk = emulators.telegram, emulators.vk
    people = [emulators.call(telegram.user, emulators.token, f"T{n}") for n in range(100)]
    peers = [emulators.call(vk.user, emulators.group, f"V{n}").user.id for n in range(100)]
    env = bot_env(tmp_path, **emulators.settings(DEMO_CATALOG="false"))
    log = tmp_path / "bot.log"
    bot = start_bot(env, log)
    url = env["DATABASE_URL"]
    try:
        await queue(url, [f"telegram:{p.id}" for p in people], "Telegram")
        await queue(url, [f"vk:{peer}" for peer in peers], "VK")

        def to_people() -> collections.Counter[int]:
            ids = {p.id for p in people}
            return collections.Counter(s.chat_id for s in telegram.sends if s.chat_id in ids)

        def vk_messages() -> collections.Counter[int]:
            return collections.Counter(
                peer
                for peer in peers
                for message in vk.conversation(emulators.group, peer).messages
                if message.out
            )

        await until(lambda: sum(to_people().values()) >= 40, 30, "40 Telegram messages out")
        bot.process.kill()  # SIGKILL: no goodbye, a send may be in flight
        bot.process.wait()
        sent_before = sum(to_people().values())
        assert sent_before < 100, "the whole batch went before the kill"
        bot = start_bot(env, log)

        def all_delivered() -> bool:
            return len(to_people()) == 100 and len(vk_messages()) == 100

        await until(all_delivered, 40, "every message delivered after the restart")
        await settled(url)
    finally:
        stop(bot)
    twice = sum(n - 1 for n in to_people().values())
    assert twice <= 1, log.read_text()[-3000:]
    assert set(vk_messages().values()) == {1}
    assert "Traceback" not in log.read_text()


async def test_two_processes_without_redis_share_the_sending_role(
    postgres_url: str, emulators: Emulators, tmp_path: Path
) -> None:
    telegram = emulators.telegram
    limits = RateLimits(enabled=True, per_bot_per_second=100)
    emulators.call(setattr, telegram.config, "rate_limits", limits)
    emulators.call(setattr, telegram.world.limiter, "limits", limits)
    people = [emulators.call(telegram.user, emulators.token, f"P{n}") for n in range(1000)]
    settings = emulators.settings()
    for name in ("VK_GROUP_TOKEN", "VK_GROUP_ID", "VK_API_URL"):
        settings.pop(name)
    env = bot_env(tmp_path, **settings)
    env.update(DATABASE_URL=postgres_url, DEMO_CATALOG="false", TELEGRAM_SEND_RATE="95")
    first, second = start_bot(env, tmp_path / "first.log"), None
    try:
        second = start_bot(env, tmp_path / "second.log")
        await until(lambda: first.sending() != second.sending(), 10, "one sending process")
        holder, standby = (first, second) if first.sending() else (second, first)

        def sent() -> collections.Counter[int]:
            return collections.Counter(s.chat_id for s in telegram.sends)

        await queue(postgres_url, [f"telegram:{p.id}" for p in people[:500]], "Первая")
        await until(lambda: len(sent()) == 500, 30, "the first 500 delivered")
        twice = [chat for chat, n in sent().items() if n > 1]
        assert twice == [], "".join(p.read_text() for p in sorted(tmp_path.glob("*.log")))  # noqa: ASYNC240

        await queue(postgres_url, [f"telegram:{p.id}" for p in people[500:]], "Вторая")
        await until(lambda: sum(sent().values()) >= 700, 30, "200 of the second 500 out")
        holder.process.kill()
        holder.process.wait()
        await until(lambda: len(sent()) == 1000, 40, "the standby took over and finished")
        assert standby.sending()
        await settled(postgres_url)
    finally:
        for bot in (first, second):
            if bot is not None:
                stop(bot)
        run_apart(_truncate_all, postgres_url)
    logs = "".join(p.read_text() for p in sorted(tmp_path.glob("*.log")))  # noqa: ASYNC240
    assert sum(n - 1 for n in sent().values()) <= 1, logs[-3000:]  # the one in flight
    assert [c for c in telegram.world.calls if c.error_code == 429] == []
    assert most_in_a_window([s.at for s in telegram.sends]) <= 100
    assert "Sending role: this process sends now" in logs
