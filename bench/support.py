"""Relay latency of support tickets through the emulators, both ways.

    python -m bench.support [--messages 30] [--only sqlite|postgresql]

The whole process (bot.app.start) serves a Telegram shopper with an open ticket and a forum
moderator chat. Measured, per message, from the moment the person sends until the relayed
copy is there: shopper -> the ticket's topic, and a staff message in the topic -> the
shopper. Both go through the inbox, the conversation and the outbox, so the figure includes
the outbox dispatcher's idle wait between rounds (OutboxDelivery.run_forever, 1 s).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import time
from collections.abc import Callable

from bench.common import fresh_database
from bot.app import start
from bot.config import Settings
from tests.emulators.telegram import TelegramEmulator

POLL = 0.002


async def arrival(check: Callable[[], bool], within: float = 30.0) -> None:
    deadline = time.perf_counter() + within
    while not check():
        if time.perf_counter() > deadline:
            raise AssertionError("relay did not arrive")
        await asyncio.sleep(POLL)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def measure(kind: str, messages: int) -> None:
    async with fresh_database(kind) as url:
        emu = TelegramEmulator()
        await emu.start()
        token = emu.create_bot(username="bench_shop_bot")
        group = emu.group(token, title="Модераторы", forum=True)
        staff = emu.user(token, first_name="Вера")
        settings = Settings(
            database_url=url,
            telegram_bot_token=token,
            telegram_api_server=emu.api_server_url,
            http_port=0,
            moderator_chat=f"telegram:{group.id}",
            staff=f"telegram:{staff.id}",
            _env_file=None,  # type: ignore[call-arg]
        )
        runtime = await start(settings)
        try:
            alice = emu.user(token, first_name="Алиса")
            await alice.send("/support")
            await alice.press("Не по заказу")
            await alice.send("Начало")
            await arrival(lambda: bool(group.topics and group.topics[0].messages))
            thread = group.topics[0].thread_id
            inward, outward = [], []
            for n in range(messages):
                text = f"от покупателя {n}"
                started = time.perf_counter()
                await alice.send(text)
                await arrival(
                    lambda text=text: any(
                        text in (m.text or "") for m in group.topic(thread).messages
                    )
                )
                inward.append(time.perf_counter() - started)
                answer = f"от поддержки {n}"
                started = time.perf_counter()
                await staff.send_in(group, answer, thread_id=thread, expect_reply=False)
                await arrival(
                    lambda answer=answer: any(answer in (m.text or "") for m in alice.messages)
                )
                outward.append(time.perf_counter() - started)
        finally:
            await runtime.stop()
            await emu.stop()
    for name, values in (("shopper -> topic", inward), ("topic -> shopper", outward)):
        print(
            f"{kind:10} {name}: p50 {statistics.median(values) * 1000:.0f} ms, "
            f"p99 {percentile(values, 0.99) * 1000:.0f} ms ({len(values)} messages)"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=30)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for kind in [args.only] if args.only else ["sqlite", "postgresql"]:
        await measure(kind, args.messages)


if __name__ == "__main__":
    asyncio.run(main())
