"""Broadcast pace: N outbox messages to N customers, sent by ``python -m bot`` (its own
process, as in production) through the Telegram emulator with its flood limits on (30
messages in any second, ~1 a second per chat), then through the VK emulator (20 requests in
any second per community token, error 6 beyond).

    python -m bench.broadcast [--count 3000] [--only telegram|vk] [--db sqlite|postgresql]

Printed per messenger: messages/s from the first message the emulator accepted to the last
(target >= 29/s for Telegram's 30, >= 19/s for VK's 20), the most messages (VK: requests)
in any one second, messages lost, sent twice, and "too many requests" answers received.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from bench.common import fresh_database
from handlers.screens import Screen, screen_to_payload
from shop import outbox
from shop.accounts import AccountRef, Channel
from shop.customers import get_or_create_customer
from shop.db import create_engine, create_session_factory
from shop.models import OutboxMessage
from tests.emulators.telegram import TelegramEmulator, most_in_a_window
from tests.emulators.vk import VkEmulator


@dataclass
class Figures:
    name: str
    count: int
    times: list[float]  # when each message was accepted
    delivered: int  # distinct recipients who got theirs
    twice: int
    too_many: int
    busiest: int  # most messages (VK: requests) in any second
    limit: float
    outbox: dict[str, int]

    def report(self) -> None:
        span = self.times[-1] - self.times[0] if len(self.times) > 1 else 0.0
        rate = (len(self.times) - 1) / span if span else 0.0
        print(
            f"{self.name}: {len(self.times)} messages in {span:.1f} s = {rate:.2f} messages/s "
            f"(limit {self.limit:g}/s, target >= {self.limit - 1:g}/s); most in any 1 s: "
            f"{self.busiest}; lost {self.count - self.delivered}, sent twice {self.twice}, "
            f"'too many requests' received {self.too_many}; outbox {self.outbox}"
        )


async def fill_outbox(url: str, accounts: list[AccountRef]) -> None:
    """One customer per account, one message each, as a broadcast would queue them."""
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            for n, account in enumerate(accounts):
                shopper = await get_or_create_customer(session, account, display_name=f"P{n}")
                screen = Screen(f"Скидки недели, выпуск {n}")
                payload = {"screen": screen_to_payload(screen)}
                outbox.enqueue(session, "screen", payload, customer_id=shopper.id)
    finally:
        await engine.dispose()


async def outbox_statuses(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            return {str(status): count for status, count in (await session.execute(query)).all()}
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def bot_process(env: dict[str, str]) -> AsyncIterator[None]:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM", "VK_", "REDIS"))
    }
    environment.update(HTTP_PORT="0", LOG_LEVEL="WARNING", DEMO_CATALOG="false", **env)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        env=environment,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = await process.communicate()
        if process.returncode not in (0, -signal.SIGTERM):
            print(errors.decode()[-2000:], file=sys.stderr)


async def wait_until_done(sent: Callable[[], int], count: int, per_second: float) -> None:
    """Until every message is out and nothing more came for 3 s (a repeat would show)."""
    deadline = time.monotonic() + count / (per_second * 0.8) + 60
    last, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now = sent()
        if now != last:
            last, quiet_since = now, time.monotonic()
        elif now >= count and time.monotonic() - quiet_since > 3:
            return
        await asyncio.sleep(0.2)
    print(f"  gave up waiting: {last} of {count} sent", file=sys.stderr)


async def telegram(count: int, kind: str) -> Figures:
    emu = TelegramEmulator(rate_limits=True)
    await emu.start()
    try:
        token = emu.create_bot(username="broadcast_bot")
        people = [emu.user(token, first_name=f"P{n}") for n in range(count)]
        async with fresh_database(kind) as url:
            await fill_outbox(url, [AccountRef(Channel.TELEGRAM, p.id) for p in people])
            env = {"DATABASE_URL": url, "TELEGRAM_BOT_TOKEN": token}
            env["TELEGRAM_API_SERVER"] = emu.api_server_url
            async with bot_process(env):
                await wait_until_done(lambda: len(emu.sends), count, 30)
            statuses = await outbox_statuses(url)
        sends = [s for s in emu.sends if s.token == token]
        per_chat = collections.Counter(s.chat_id for s in sends)
        too_many = sum(1 for c in emu.world.calls if c.error_code == 429)
        times = sorted(s.at for s in sends)
        return Figures(
            f"Telegram ({kind})",
            count,
            times,
            len(per_chat),
            sum(n - 1 for n in per_chat.values()),
            too_many,
            most_in_a_window(times),
            30,
            statuses,
        )
    finally:
        await emu.stop()


async def vk(count: int, kind: str) -> Figures:
    emu = VkEmulator()
    await emu.start()
    try:
        group = emu.create_group(name="Shop")
        emu.limit_requests(20)
        people = [emu.user(group, first_name=f"P{n}") for n in range(count)]
        peers = {p.user.id for p in people}

        def messages() -> list[tuple[int, int]]:
            return [
                (int(c.params["peer_id"]), c.response)
                for c in emu.calls_to("messages.send")
                if c.ok and int(c.params.get("peer_id", 0)) in peers
            ]

        async with fresh_database(kind) as url:
            await fill_outbox(url, [AccountRef(Channel.VK, peer) for peer in peers])
            env = {"DATABASE_URL": url, "VK_GROUP_TOKEN": group.token}
            env.update(VK_GROUP_ID=str(group.id), VK_API_URL=emu.api_url)
            async with bot_process(env):
                await wait_until_done(lambda: len(messages()), count, 20)
            statuses = await outbox_statuses(url)
        sent = messages()
        shown = collections.Counter(peer for peer, _ in set(sent))  # a repeat VK dropped is one
        times = sorted(c.started for c in emu.calls_to("messages.send") if c.ok)
        return Figures(
            f"VK ({kind})",
            count,
            times,
            len(shown),
            sum(n - 1 for n in shown.values()),
            sum(1 for c in emu.calls if c.error and c.error[0] == 6),
            most_in_a_window(emu.request_times(group)),
            20,
            statuses,
        )
    finally:
        await emu.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--only", choices=["telegram", "vk"])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    runs = {"telegram": telegram, "vk": vk}
    for name in [args.only] if args.only else list(runs):
        (await runs[name](args.count, args.db)).report()


if __name__ == "__main__":
    asyncio.run(main())
