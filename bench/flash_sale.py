"""A flash sale: a post's deep link brings N shoppers within S seconds; each sends
``/start p_<id>`` and, once the product card is there, presses "В корзину" on it. The bot is
``python -m bot`` (its own process) against the Telegram emulator enforcing 30 messages in
any second per bot (and ~1/s per chat), answering 429 beyond; then the same crowd against a
bare aiogram bot that answers at once without pacing (bench/echo_bot.py style).

    python -m bench.flash_sale [--shoppers 5000] [--within 60] [--db postgresql|sqlite]

Printed per bot: shoppers fully answered (card and press), 429 received, the reply rate
while the queue is non-empty (messages sent from the first arrival until the last card went
out), and first replies against arrival order: p50/p95 wait for the card next to the ideal
first-come-first-served bound (the k-th arrival's card cannot go before first arrival + k/30
s), and how many cards went out more than a second's worth of places (30) out of arrival
order.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import statistics
import sys
import time
from dataclasses import dataclass, field

from sqlalchemy import select, update

from bench.common import fresh_database
from shop.db import create_engine, create_session_factory
from shop.models import Product, Variant
from tests.emulators.telegram import Person, TelegramEmulator
from tests.emulators.telegram.state import World

LIMIT = 30


@dataclass
class Crowd:
    """What happened to each shopper (by chat id), filled in by `watch`."""

    world: World
    token: str
    arrived: dict[int, float] = field(default_factory=dict)
    first_reply: dict[int, float] = field(default_factory=dict)
    card: dict[int, asyncio.Event] = field(default_factory=dict)
    pressed_at_call: dict[int, int] = field(default_factory=dict)
    press_answered: set[int] = field(default_factory=set)
    sends: list[float] = field(default_factory=list)
    _sent_seen: int = 0
    _calls_seen: int = 0

    def watch(self) -> None:
        """Read what the bot sent since the last look."""
        sent = self.world.limiter.sent
        for record in sent[self._sent_seen :]:
            if record.token != self.token:
                continue
            self.sends.append(record.at)
            if record.chat_id in self.card and record.chat_id not in self.first_reply:
                self.first_reply[record.chat_id] = record.at
                self.card[record.chat_id].set()
        self._sent_seen = len(sent)
        calls = self.world.calls
        while self._calls_seen < len(calls):
            call = calls[self._calls_seen]
            if not call.ok and call.error_code is None:
                break  # still being answered: look again later
            self._calls_seen += 1
            pressed = self.pressed_at_call.get(call.chat_id or 0)
            reaction = call.method.startswith(("send", "edit"))
            if call.ok and reaction and pressed is not None and call.index >= pressed:
                self.press_answered.add(call.chat_id or 0)


async def shopper(crowd: Crowd, person: Person, at: float, text: str) -> None:
    await asyncio.sleep(max(0.0, at - time.monotonic()))
    chat = person.id
    crowd.arrived[chat] = time.monotonic()
    await person.send(text, settle=False)
    await crowd.card[chat].wait()
    # the card may take a moment to be stored after its send was counted
    for _ in range(100):
        buttons = [b for row in person.screen.keyboard for b in row if b.data]
        if buttons:
            break
        await asyncio.sleep(0.05)
    crowd.pressed_at_call[chat] = len(crowd.world.calls)
    chosen = next((b for b in buttons if "корзин" in b.text.lower()), buttons[0])
    await person.press(chosen.text, settle=False)


async def run_crowd(emu: TelegramEmulator, token: str, shoppers: int, within: float, text: str):
    people = [emu.user(token, first_name=f"Покупатель{n}") for n in range(shoppers)]
    crowd = Crowd(emu.world, token)
    for person in people:
        crowd.card[person.id] = asyncio.Event()
    start = time.monotonic() + 0.5
    tasks = [
        asyncio.create_task(shopper(crowd, p, start + n * within / shoppers, text))
        for n, p in enumerate(people)
    ]
    deadline = start + within + shoppers * 2 / 10 + 300  # a busy machine answers slower
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        before = (len(crowd.first_reply), len(crowd.press_answered))
        crowd.watch()
        if (len(crowd.first_reply), len(crowd.press_answered)) != before:
            quiet_since = time.monotonic()
        if len(crowd.press_answered) >= shoppers:
            break
        if time.monotonic() > start + within and time.monotonic() - quiet_since > 30:
            break  # nothing more is coming
        await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()
    failures = [
        r for r in await asyncio.gather(*tasks, return_exceptions=True) if isinstance(r, Exception)
    ]
    if failures:
        print(f"  {len(failures)} shopper(s) failed, e.g. {failures[0]!r}", file=sys.stderr)
    crowd.watch()
    return crowd


def report(name: str, crowd: Crowd, shoppers: int) -> None:
    too_many = sum(1 for c in crowd.world.calls if c.token == crowd.token and c.error_code == 429)
    order = sorted(crowd.arrived, key=crowd.arrived.__getitem__)
    first = crowd.arrived[order[0]] if order else 0.0
    waits, ideal = [], []
    for k, chat in enumerate(order):
        if chat in crowd.first_reply:
            waits.append(crowd.first_reply[chat] - crowd.arrived[chat])
            ideal.append(max(0.0, first + (k + 1) / LIMIT - crowd.arrived[chat]))
    answered = sum(1 for c in order if c in crowd.first_reply and c in crowd.press_answered)
    cards_done = max(crowd.first_reply.values(), default=first)
    busy = [t for t in crowd.sends if first <= t <= cards_done]
    rate = len(busy) / (cards_done - first) if cards_done > first else 0.0
    replied = sorted(crowd.first_reply, key=crowd.first_reply.__getitem__)
    rank = {chat: k for k, chat in enumerate(order)}
    out_of_order = sum(1 for k, chat in enumerate(replied) if abs(rank[chat] - k) > LIMIT)
    print(f"{name}:")
    print(
        f"  answered (card and press) {answered} of {shoppers}; cards {len(crowd.first_reply)}, "
        f"presses answered {len(crowd.press_answered)}; 429 received {too_many}"
    )
    print(
        f"  reply rate while the queue is non-empty: {rate:.2f} messages/s over "
        f"{cards_done - first:.1f} s (limit {LIMIT}/s, target >= 29/s); all sends "
        f"{len(crowd.sends)}"
    )
    if waits:
        p95 = _percentile(waits, 0.95)
        ideal95 = _percentile(ideal, 0.95)
        print(
            f"  wait for the card: p50 {statistics.median(waits):.2f} s, p95 {p95:.2f} s; "
            f"ideal FCFS bound (position/{LIMIT} s) p50 {statistics.median(ideal):.2f} s, "
            f"p95 {ideal95:.2f} s; p95/ideal {p95 / ideal95 if ideal95 else float('nan'):.3f} "
            f"(target <= 1.10); cards more than {LIMIT} places out of arrival order: "
            f"{out_of_order}"
        )


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


@contextlib.asynccontextmanager
async def bot_process(module: list[str], emu: TelegramEmulator, token: str, **env: str):
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM", "VK_", "REDIS"))
    }
    environment.update(
        TELEGRAM_BOT_TOKEN=token,
        TELEGRAM_API_SERVER=emu.api_server_url,
        HTTP_PORT="0",
        LOG_LEVEL="WARNING",
        **env,
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *module,
        env=environment,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    stderr: list[bytes] = []

    async def drain() -> None:  # a bot logging every 429 must not block on a full pipe
        assert process.stderr is not None
        while line := await process.stderr.readline():
            stderr.append(line)

    draining = asyncio.create_task(drain())
    try:
        await emu.wait_polling(token, within=60)
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        await process.wait()
        await draining
        if process.returncode not in (0, -signal.SIGTERM):
            print(b"".join(stderr[-20:]).decode()[-2000:], file=sys.stderr)


async def product_id(url: str) -> int:
    """A product of the demo catalog, with stock for everyone."""
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await session.execute(update(Variant).values(stock=1_000_000))
            found = await session.scalar(select(Product.id).order_by(Product.id).limit(1))
            assert found is not None, "no demo catalog"
            return int(found)
    finally:
        await engine.dispose()


async def shop(emu: TelegramEmulator, shoppers: int, within: float, kind: str) -> None:
    token = emu.create_bot(username="flash_sale_bot")
    async with (
        fresh_database(kind) as url,
        bot_process(["-m", "bot"], emu, token, DATABASE_URL=url),
    ):
        text = f"/start p_{await product_id(url)}"
        crowd = await run_crowd(emu, token, shoppers, within, text)
    report(f"shop (python -m bot, {kind})", crowd, shoppers)


async def bare(emu: TelegramEmulator, shoppers: int, within: float) -> None:
    token = emu.create_bot(username="flash_sale_bare_bot")
    async with bot_process(["-m", "bench.flash_sale", "--bare-bot"], emu, token):
        crowd = await run_crowd(emu, token, shoppers, within, "/start p_1")
    report("bare aiogram bot (answers at once, no pacing)", crowd, shoppers)


async def bare_bot() -> None:
    """The comparison: a product card with one button, the press edits it; no pacing, no
    retries, as a bot written in an afternoon."""
    from aiogram import Bot, Dispatcher, F, Router
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.filters import CommandStart
    from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

    router = Router()
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="В корзину", callback_data="add")]]
    )

    @router.message(CommandStart())
    async def card(message: Message) -> None:
        await message.answer("Шопер «Лён», 1 490 ₽", reply_markup=keyboard)

    @router.callback_query(F.data == "add")
    async def add(query: CallbackQuery) -> None:
        await query.answer("Добавлено")
        if isinstance(query.message, Message):
            await query.message.edit_text("Шопер «Лён» в корзине")

    api = TelegramAPIServer.from_base(os.environ["TELEGRAM_API_SERVER"])
    bot = Bot(os.environ["TELEGRAM_BOT_TOKEN"], session=AiohttpSession(api=api))
    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    await dispatcher.start_polling(bot, handle_signals=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shoppers", type=int, default=5000)
    parser.add_argument("--within", type=float, default=60.0, help="seconds of arrivals")
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--only", choices=["shop", "bare"])
    parser.add_argument("--bare-bot", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_bot:
        await bare_bot()
        return
    logging.basicConfig(level=logging.WARNING)
    emu = TelegramEmulator(rate_limits=True, settle_timeout=120.0)
    await emu.start()
    try:
        if args.only in (None, "shop"):
            await shop(emu, args.shoppers, args.within, args.db)
        if args.only in (None, "bare"):
            await bare(emu, args.shoppers, args.within)
    finally:
        await emu.stop()


if __name__ == "__main__":
    asyncio.run(main())
