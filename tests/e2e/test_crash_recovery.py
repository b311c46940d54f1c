"""``kill -9`` of a real ``python -m bot`` in the middle of a burst of updates: after a restart
on the same database every update is applied exactly once and every payment is recorded once.

Ten shoppers greet the bot, six of them have an order awaiting Telegram payment. Then 50
updates arrive at once: "add to cart" presses (each adds one unit, so a cart's quantity counts
how often its presses were applied) and the six ``successful_payment`` messages. The bot is
killed with SIGKILL twice: as the burst is handed over (polling: the getUpdates answer is out,
so the updates come again after the restart; webhook: the first POST was answered, the others
are in flight and retried), then, after a restart, once it has drawn a few screens (some
updates handled and committed, the rest not). After a second restart, what is stored is
checked once everything settles. Both update modes, SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shop.accounts import AccountRef, Channel
from shop.customers import find_customer
from shop.db import create_engine, create_session_factory
from shop.models import (
    CartLine,
    InboxEvent,
    InboxStatus,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    OutboxMessage,
    OutboxStatus,
    Payment,
    PaymentProvider,
    PaymentStatus,
    Refund,
    Variant,
)
from tests.core.helpers import checkout, fill_cart, small_shop
from tests.e2e.conftest import free_port
from tests.emulators.telegram import Person, TelegramEmulator
from tests.emulators.telegram.state import BotState, UpdateRecord

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_TOKEN = "381764678:TEST:100500"
WEBHOOK_SECRET = "crash-recovery-secret"
SHOPPERS = 10
PAYERS = 6
BURST = 50
STOCK = 1000
ORDERED = 2  # units of the ordered variant in each order
KILL_AFTER = 5  # screens drawn for burst updates before the kill
START_WITHIN = 30.0
SETTLE_WITHIN = 25.0
NOT_A_SCREEN = {"getUpdates", "answerCallbackQuery", "sendChatAction"}
"""Calls that do not show a handled update: an early bare answer may come before the commit."""


class BotProcess:
    """``python -m bot`` run (and run again) in its own directory, output kept per run."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.runs: list[subprocess.Popen[bytes]] = []

    @property
    def process(self) -> subprocess.Popen[bytes]:
        return self.runs[-1]

    def start(self) -> None:
        path = self.workdir / f"bot-run-{len(self.runs) + 1}.log"
        with path.open("wb") as log:
            self.runs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bot"],
                    cwd=self.workdir,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )

    def kill9(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        assert self.process.returncode == -signal.SIGKILL

    def output(self, tail: int = 4000) -> str:
        parts = []
        for number in range(1, len(self.runs) + 1):
            text = (self.workdir / f"bot-run-{number}.log").read_text(errors="replace")
            parts.append(f"--- bot run {number} (last {tail} chars) ---\n{text[-tail:]}")
        return "\n".join(parts)

    async def stop(self) -> None:
        """Terminate whatever still runs, then kill it; waits without blocking the loop (the
        bot may still talk to the emulator in this process while it stops)."""
        for process in self.runs:
            if process.poll() is None:
                process.terminate()
                try:
                    await asyncio.to_thread(process.wait, 10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    await asyncio.to_thread(process.wait, 10)


async def until(
    check: Callable[[], object], within: float, what: str, bot: BotProcess | None = None
) -> object:
    """Poll ``check`` (sync or async) until it is truthy; fail with the bot's output if the
    deadline passes or the bot exits."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if bot is not None and bot.process.poll() is not None:
            pytest.fail(f"the bot exited ({bot.process.returncode}) while {what}\n{bot.output()}")
        if time.monotonic() > deadline:
            shown = bot.output() if bot is not None else ""
            raise AssertionError(f"not within {within} s: {what}\n{shown}")
        await asyncio.sleep(0.05)


@dataclass
class Db:
    writer: async_sessionmaker[AsyncSession]
    reader: async_sessionmaker[AsyncSession]
    """Plain BEGIN on SQLite: reads beside the bot's writes instead of queueing for its lock."""


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Db]:
    engine = create_engine(database_url)
    yield Db(create_session_factory(engine), create_session_factory(engine, read_only=True))
    await engine.dispose()


@pytest.fixture
async def emu() -> AsyncIterator[TelegramEmulator]:
    # Telegram retries a webhook for far longer than the emulator's default ~3 s, which a
    # restart of the process can outlast; settling waits through a restart too.
    emulator = TelegramEmulator(
        settle_timeout=SETTLE_WITHIN, webhook_retry_delays=(0.05, 0.1, 0.2) + (0.25,) * 160
    )
    await emulator.start()
    yield emulator
    await emulator.stop()


def bot_env(database_url: str, emu: TelegramEmulator, token: str, mode: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM", "VK_", "YOOKASSA"))}
    port = free_port()
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_URL=database_url,
        TELEGRAM_BOT_TOKEN=token,
        TELEGRAM_API_SERVER=emu.api_server_url,
        TELEGRAM_PAYMENTS_PROVIDER_TOKEN=PROVIDER_TOKEN,
        TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
        HTTP_PORT=str(port),
        DEMO_CATALOG="false",
    )
    env.pop("PUBLIC_BASE_URL", None)
    if mode == "webhook":
        env["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}"
    return env


async def start_bot(bot: BotProcess, emu: TelegramEmulator, token: str, mode: str) -> None:
    """Start a run and wait until it listens: polls, or has (re)set its webhook."""
    mark = len(emu.world.calls)
    method = "getUpdates" if mode == "polling" else "setWebhook"
    bot.start()

    def listening() -> bool:
        return any(
            c.token == token and c.method == method and (c.ok or method == "getUpdates")
            for c in emu.world.calls[mark:]
        )

    await until(listening, START_WITHIN, f"waiting for the bot's {method}", bot)


@dataclass
class Shopper:
    person: Person
    customer_id: int
    greeting_id: int
    order_id: int | None = None
    order_total: int = 0
    presses: int = 0

    @property
    def charge_id(self) -> str:
        return f"tg_crash_{self.order_id}"


async def inbox_rows(db: Db, event_ids: list[str]) -> dict[str, str]:
    """Burst update id -> inbox status, for the burst updates the inbox holds."""
    async with db.reader() as session:
        rows = await session.execute(
            select(InboxEvent.event_id, InboxEvent.status).where(
                InboxEvent.source == "telegram", InboxEvent.event_id.in_(event_ids)
            )
        )
        return {event_id: status for event_id, status in rows}


async def count(db: Db, query: Select[tuple[int]]) -> int:
    async with db.reader() as session:
        return int(await session.scalar(query) or 0)


async def _zero(db: Db, query: Select[tuple[int]]) -> bool:
    return await count(db, query) == 0


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_kill_9_mid_burst_applies_every_update_once(
    database_url: str, db: Db, emu: TelegramEmulator, tmp_path: Path, mode: str
) -> None:
    pressed_variant, ordered_variant = await small_shop(db.writer, [STOCK, STOCK])
    token = emu.create_bot(username="crash_shop_bot")
    state: BotState = emu.bot(token)
    workdir = tmp_path / "run"
    workdir.mkdir()
    bot = BotProcess(workdir, bot_env(database_url, emu, token, mode))
    tasks: list[asyncio.Task[object]] = []
    try:
        await start_bot(bot, emu, token, mode)

        # Ten shoppers with a bot message each; six with an order awaiting payment.
        people = [emu.user(token, first_name=f"Покупатель{n}") for n in range(SHOPPERS)]
        await asyncio.gather(*(person.send("/start") for person in people))
        shoppers: list[Shopper] = []
        for person in people:
            async with db.reader() as session:
                found = await find_customer(session, AccountRef(Channel.TELEGRAM, person.id))
            assert found is not None, f"/start made no customer for {person}"
            shoppers.append(Shopper(person, found.id, person.screen.message_id))
        for shopper in shoppers[:PAYERS]:
            await fill_cart(db.writer, shopper.customer_id, {ordered_variant: ORDERED})
            placed = await checkout(db.writer, shopper.customer_id)
            shopper.order_id, shopper.order_total = placed.id, placed.total

        # Nothing of the set-up left to send, so every screen drawn later is for the burst.
        pending_outbox = select(func.count()).where(OutboxMessage.status == OutboxStatus.PENDING)
        await until(
            lambda: _zero(db, pending_outbox),
            SETTLE_WITHIN,
            "the set-up's outbox is delivered",
            bot,
        )
        await emu.settle(token)
        assert state.queue == []

        # The burst: 44 presses and 6 payments, shuffled, all sent at once.
        rng = random.Random(f"crash-{mode}")
        actions: list[tuple[Shopper, str]] = [(s, "pay") for s in shoppers[:PAYERS]]
        actions += [(shoppers[n % SHOPPERS], "press") for n in range(BURST - PAYERS)]
        rng.shuffle(actions)
        for shopper, action in actions:
            person = shopper.person
            if action == "press":
                shopper.presses += 1
                job = person.press_data(
                    f"a:{pressed_variant}:1", message=shopper.greeting_id, expect_reply=False
                )
            else:
                payment = {
                    "currency": "RUB",
                    "total_amount": shopper.order_total,
                    "invoice_payload": f"order:{shopper.order_id}",
                    "telegram_payment_charge_id": shopper.charge_id,
                    "provider_payment_charge_id": f"pr_crash_{shopper.order_id}",
                }
                job = person.send_raw({"successful_payment": payment}, expect_reply=False)
            tasks.append(asyncio.ensure_future(job))
        await asyncio.sleep(0)  # every task has queued its update (before its first await)
        records: list[UpdateRecord] = list(state.queue)
        assert len(records) == BURST
        burst_ids = [str(record.update_id) for record in records]
        chats = {shopper.person.chat_id for shopper in shoppers}

        burst_numbers = {record.update_id for record in records}

        def handed_over() -> bool:
            """Polling: a getUpdates answer carried the burst; webhook: one POST was answered."""
            if mode == "webhook":
                return any(record.confirmed for record in records)
            return any(
                c.token == token
                and c.method == "getUpdates"
                and c.ok
                and any(update["update_id"] in burst_numbers for update in c.result)
                for c in emu.world.calls  # the long poll that answers began before the burst
            )

        def drawn(since: int) -> int:
            return sum(
                1
                for c in emu.world.calls[since:]
                if c.token == token and c.method not in NOT_A_SCREEN and c.chat_id in chats
            )

        async def kill_when(ready: Callable[[], bool], what: str) -> dict[str, str]:
            """SIGKILL as soon as ``ready()``; the burst's inbox rows as the kill left them."""
            deadline = time.monotonic() + SETTLE_WITHIN
            while not ready():
                if bot.process.poll() is not None:
                    pytest.fail(f"the bot exited before {what}\n{bot.output()}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"not within {SETTLE_WITHIN} s: {what}\n{bot.output()}")
                await state.activity.wait(0.002)  # woken by each call the bot makes
            bot.kill9()
            rows = await inbox_rows(db, burst_ids)
            confirmed = {str(record.update_id) for record in records if record.confirmed}
            done = sum(1 for status in rows.values() if status == InboxStatus.DONE)
            print(
                f"[{mode}] killed once {what}: {len(confirmed)}/{BURST} acknowledged, "
                f"{len(rows)} stored, {done} done"
            )
            assert confirmed <= set(rows), "an update was acknowledged before it was stored"
            assert done < BURST, f"nothing was left to do when killed once {what}"
            return rows

        # Kill 1: as the burst is handed over, before (or while) the bot stores it.
        await kill_when(handed_over, "the burst was handed over")
        await start_bot(bot, emu, token, mode)

        # Kill 2: once a few burst updates are visibly handled (a screen is drawn only after
        # its update's transaction committed), long before all 50 can be.
        restarted = len(emu.world.calls)
        at_kill = await kill_when(
            lambda: drawn(restarted) >= KILL_AFTER, f"{KILL_AFTER} screens were drawn"
        )
        assert any(status == InboxStatus.DONE for status in at_kill.values())

        # Restart again on the same database and wait until everything has settled.
        await start_bot(bot, emu, token, mode)
        payer_orders = [s.order_id for s in shoppers[:PAYERS]]

        async def settled() -> bool:
            rows = await inbox_rows(db, burst_ids)
            if len(rows) < BURST or any(s != InboxStatus.DONE for s in rows.values()):
                return False
            paid = select(func.count()).where(
                Order.id.in_(payer_orders), Order.status == OrderStatus.PAID
            )
            return await count(db, paid) == PAYERS and await _zero(db, pending_outbox)

        await until(settled, SETTLE_WITHIN, "the burst is handled after the restart", bot)
        # Every update reached the bot (the emulator's settling raises if one was dropped).
        await asyncio.wait_for(asyncio.gather(*tasks), SETTLE_WITHIN)
        await emu.settle(token)

        # The inbox: each burst update stored once and done; nothing pending or parked at all.
        async with db.reader() as session:
            statuses = dict(
                (
                    await session.execute(
                        select(InboxEvent.status, func.count()).group_by(InboxEvent.status)
                    )
                ).all()
            )
            per_event = (
                await session.execute(
                    select(InboxEvent.event_id, func.count())
                    .where(InboxEvent.event_id.in_(burst_ids))
                    .group_by(InboxEvent.event_id)
                )
            ).all()
        assert set(statuses) == {InboxStatus.DONE}, statuses
        assert sorted(per_event) == sorted((event_id, 1) for event_id in burst_ids)

        # Each press applied exactly once: the cart holds as many units as presses were sent.
        async with db.reader() as session:
            carts = (
                await session.execute(
                    select(CartLine.customer_id, CartLine.variant_id, CartLine.quantity)
                )
            ).all()
        assert sorted(carts) == sorted(
            (s.customer_id, pressed_variant, s.presses) for s in shoppers
        ), "a press was lost or applied twice"

        # Each charge recorded once, each order paid once, nothing refunded.
        async with db.reader() as session:
            payments = (
                await session.execute(
                    select(
                        Payment.provider_payment_id,
                        Payment.order_id,
                        Payment.provider,
                        Payment.status,
                        Payment.amount,
                    )
                )
            ).all()
            paid_events = (
                await session.execute(
                    select(OrderEvent.order_id, func.count())
                    .where(OrderEvent.to_status == OrderStatus.PAID)
                    .group_by(OrderEvent.order_id)
                )
            ).all()
            orders = (await session.execute(select(Order.id, Order.status))).all()
            refunds = await session.scalar(select(func.count()).select_from(Refund))
            alerts = await session.scalar(
                select(func.count()).where(OutboxMessage.kind == "staff_alert")
            )
        assert sorted(payments) == sorted(
            (
                s.charge_id,
                s.order_id,
                PaymentProvider.TELEGRAM,
                PaymentStatus.SUCCEEDED,
                s.order_total,
            )
            for s in shoppers[:PAYERS]
        ), "a payment was lost or recorded twice"
        assert sorted(paid_events) == sorted((order_id, 1) for order_id in payer_orders)
        assert sorted(orders) == sorted((order_id, OrderStatus.PAID) for order_id in payer_orders)
        assert (refunds, alerts) == (0, 0)

        # Stock: the ordered units are off the shelf once; presses only fill carts.
        async with db.reader() as session:
            stock = dict((await session.execute(select(Variant.id, Variant.stock))).all())
            held = await session.scalar(
                select(func.sum(OrderLine.quantity))
                .join(Order)
                .where(OrderLine.variant_id == ordered_variant, Order.stock_reserved.is_(True))
            )
        assert stock == {pressed_variant: STOCK, ordered_variant: STOCK - PAYERS * ORDERED}
        assert held == PAYERS * ORDERED

        assert all(record.confirmed and not record.dropped for record in records)
        assert emu.spec_warnings == []
        assert emu.result_problems == []
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await bot.stop()
