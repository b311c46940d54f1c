"""PostgreSQL going away under a running shop: shoppers are answered late, never wrongly.

The whole shop runs in-process against the Telegram emulator, with its DATABASE_URL pointing
at a TCP proxy the test holds: ``refuse()`` closes the listening socket and every open
connection (new ones are refused at TCP level, a real outage), ``resume()`` listens again.

1. Every backend of the shop is terminated (pg_terminate_backend): the pool holds only dead
   connections, and the very next updates are still answered, promptly and properly.
2. Four seconds of refused connections. They begin while a shopper's search is being
   handled (stored and acknowledged, not yet done: it waits for the sweeper); during them
   she presses "+" in her cart, Telegram delivers her successful_payment (its pre-checkout
   was answered just before) and another shopper writes (none of these can be stored, so
   Telegram keeps them). After the database is back every one is applied once, her events
   in order, everyone is answered, the order is paid once, nothing is pending or parked.

In neither case does anyone see the generic apology, or any handling failure get logged.
PostgreSQL only (TEST_DATABASE_URL).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from bot.app import start
from handlers.texts import t
from shop.inbox import Entry
from shop.models import (
    CartLine,
    InboxEvent,
    InboxStatus,
    Order,
    OrderEvent,
    OrderStatus,
    OutboxMessage,
    OutboxStatus,
    Payment,
)
from tests.e2e.conftest import Shop, eventually, free_port, order_tote_bag, seen
from tests.emulators.telegram import Person, TelegramEmulator

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

PROVIDER_TOKEN = "381764678:TEST:100500"
GENERIC = t("ru", "error.generic")
OUTAGE_SECONDS = 4.0
RECOVERED_WITHIN = 12.0
"""After the outage: the poll loop's backoff (at most 5 s) plus handling, with room to spare."""
ANSWERED_WITHIN = 5.0
"""An update right after every backend was killed: one failed store (0.5 s backoff) and one
transient retry at most, so well under this."""
SETTLE_WITHIN = OUTAGE_SECONDS + RECOVERED_WITHIN
HANDLING_LOGGERS = ("bot.inbox", "bot.telegram", "handlers", "shop")


class DatabaseProxy:
    """127.0.0.1:<port> forwarded to PostgreSQL; the test cuts it off and brings it back."""

    def __init__(self, upstream: str) -> None:
        url = make_url(upstream)
        self.upstream = (url.host or "127.0.0.1", url.port or 5432)
        self.port = free_port()
        self.url = url.set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def resume(self) -> None:
        """Listen (again) on the same port."""
        assert self._server is None
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def refuse(self) -> None:
        """Stop listening and drop every open connection, both ways, at once."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    @property
    def listening(self) -> bool:
        return self._server is not None

    async def _serve(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter):
        self._open.add(client_out)
        try:
            server_in, server_out = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_out.transport.abort()
            return
        if not self.listening or client_out not in self._open:  # refused meanwhile
            server_out.transport.abort()
            client_out.transport.abort()
            return
        self._open.add(server_out)
        pipes = [
            asyncio.ensure_future(self._pipe(client_in, server_out)),
            asyncio.ensure_future(self._pipe(server_in, client_out)),
        ]
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for writer in (client_out, server_out):
                writer.transport.abort()
                self._open.discard(writer)
            for pipe in pipes:
                pipe.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramEmulator]:
    """The emulator, with room for a person's action to settle across an outage."""
    emu = TelegramEmulator(callback_timeout=30.0, settle_timeout=SETTLE_WITHIN)
    await emu.start()
    yield emu
    await emu.stop()


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[DatabaseProxy]:
    proxy = DatabaseProxy(database_url)
    await proxy.resume()
    yield proxy
    await proxy.refuse()


@pytest.fixture
async def admin(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The test's own way into the database, past the proxy."""
    engine = create_async_engine(database_url, poolclass=NullPool)
    yield engine
    await engine.dispose()


@pytest.fixture
async def shop(telegram, shop_settings, proxy, caplog) -> AsyncIterator[Shop]:
    caplog.set_level(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    settings = shop_settings(
        database_url=proxy.url, telegram_payments_provider_token=PROVIDER_TOKEN
    )
    runtime = await start(settings)
    yield Shop(telegram, settings.telegram_bot_token, runtime, settings)
    await runtime.stop()
    assert telegram.spec_warnings == []


def apologies(shop: Shop) -> list[str]:
    """Every call of the bot that carried the generic apology (a message, a toast)."""
    calls = shop.emu.calls(token=shop.token)
    return [repr(c) for c in calls if GENERIC in json.dumps(c.params, ensure_ascii=False)]


def failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Errors logged while handling updates: a failed try, a parked event, an answer that
    could not be sent (the outbox's own rounds, which fail while the database is away, are
    not about updates)."""
    return [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.name.startswith(HANDLING_LOGGERS)
    ]


def replies_after(person: Person, sent_id: int) -> list[str]:
    """The bot's messages (text and buttons) that came after the person's message ``sent_id``."""
    return [seen(str(m)) for m in person.bot_messages if m.message_id > sent_id]


async def inbox_statuses(admin: AsyncEngine) -> dict[str, int]:
    async with admin.connect() as connection:
        rows = await connection.execute(
            select(InboxEvent.status, func.count()).group_by(InboxEvent.status)
        )
        return {status: count for status, count in rows}


async def shop_backends(admin: AsyncEngine) -> int:
    async with admin.connect() as connection:
        return await connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )


async def test_terminated_backends_cost_no_update(shop, admin, caplog):
    alice, bob = shop.user(), shop.user("Боб")
    await alice.send("/start")
    await bob.send("/start")
    await alice.send("кружки")  # a few connections in the pool, all of them about to die
    assert await shop_backends(admin) > 0

    async with admin.connect() as connection:
        killed = await connection.scalar(
            text(
                "SELECT array_agg(pid) FROM (SELECT pid, pg_terminate_backend(pid)"
                " FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()) AS killed"
            )
        )
    assert killed

    async def all_gone() -> bool:
        async with admin.connect() as connection:
            alive = text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)")
            return await connection.scalar(alive, {"pids": killed}) == 0

    await eventually(all_gone, within=5.0)

    began = time.monotonic()
    sent = await alice.send("термокружка")
    first = time.monotonic() - began
    assert any("Термокружка" in reply for reply in replies_after(alice, sent.message_id))
    assert first < ANSWERED_WITHIN, f"the first update after the kill took {first:.1f} s"

    await alice.press("Термокружка")
    await alice.press("В корзину")
    await bob.press("Корзина")
    await alice.press("Перейти в корзину")
    await eventually(lambda: "Термокружка «Дорога» × 1" in seen(alice.screen.text))
    await bob.send("плед")
    assert "Плед" in seen(str(bob.screen))

    assert apologies(shop) == []
    assert failures(caplog) == []
    async with admin.connect() as connection:
        assert await connection.scalar(select(func.sum(CartLine.quantity))) == 1
    statuses = await inbox_statuses(admin)
    assert set(statuses) == {InboxStatus.DONE.value}, statuses
    print(f"\nfirst update after the kill answered in {first:.2f} s")


async def test_a_short_outage_delays_answers_and_loses_nothing(shop, proxy, admin, caplog):
    alice, bob = shop.user(), shop.user("Боб")
    await order_tote_bag(alice)
    await alice.press("Оплатить 790")
    invoice = alice.screen
    assert invoice.invoice is not None and invoice.invoice["total_amount"] == 79000
    await alice.send("шопер")
    await alice.press("Шопер")
    await alice.press("В корзину")
    await alice.press("Перейти в корзину")
    cart = alice.screen
    assert "× 1" in seen(cart.text)
    await bob.send("/start")

    # Alice pays: the pre-checkout query is answered while the database is up, and Telegram's
    # successful_payment is held back (in the emulated client) until the outage has begun.
    outage = asyncio.Event()
    post = alice._post

    async def held(chat: Any, content: dict[str, Any], **options: Any) -> Any:
        if "successful_payment" in content:
            await outage.wait()
        return await post(chat, content, **options)

    alice._post = held  # type: ignore[method-assign]
    paying = asyncio.ensure_future(alice.pay(invoice.message_id, expect_reply=False))
    await eventually(lambda: shop.emu.calls("answerPreCheckoutQuery", token=shop.token, ok=True))
    assert shop.emu.calls("answerPreCheckoutQuery")[-1].params.get("ok") in (True, "true")
    await eventually(lambda: _all_done(admin), within=5.0)
    await eventually(lambda: _nothing_to_send(admin), within=5.0)
    await shop.emu.settle(shop.token)
    before = await inbox_statuses(admin)

    # The outage begins as Alice's search is handled: stored and acknowledged, not yet done.
    worker, handle = shop.runtime.worker, shop.runtime.worker.handlers["telegram"]
    cut: list[int] = []

    async def cut_off(entry: Entry) -> None:
        if not cut and entry.payload.get("message", {}).get("text") == "плед":
            cut.append(entry.id)
            await proxy.refuse()
        await handle(entry)

    worker.handlers["telegram"] = cut_off
    searching = asyncio.ensure_future(alice.send("плед"))
    await eventually(lambda: cut, within=5.0)
    down = time.monotonic()
    last_call = len(shop.emu.calls(token=shop.token))
    # Then, with the database away, Alice presses "+" in her cart, Telegram brings her
    # payment, Bob writes: none of them can be stored, so none is acknowledged yet.
    pressing = asyncio.ensure_future(alice.press("+", message=cart))
    await asyncio.sleep(0)
    outage.set()
    bob_writing = asyncio.ensure_future(bob.send("кружки"))
    actions = [searching, pressing, paying, bob_writing]

    await asyncio.sleep(OUTAGE_SECONDS - (time.monotonic() - down))
    assert not any(action.done() for action in actions), [a for a in actions if a.done()]
    during = [c for c in shop.emu.calls(token=shop.token)[last_call:] if c.method != "getUpdates"]
    assert during == [], f"the bot acted during the outage: {during}"
    assert await inbox_statuses(admin) == {**before, InboxStatus.PENDING.value: 1}

    await proxy.resume()
    up = time.monotonic()
    async with asyncio.timeout(RECOVERED_WITHIN):
        sent, _, payment, _ = await asyncio.gather(*actions)
        await alice.wait_for("оплачен", within=RECOVERED_WITHIN)
    recovered = time.monotonic() - up

    assert payment.ok
    assert any("Плед" in reply for reply in replies_after(alice, sent.message_id))
    cart_now = next(m for m in alice.messages if m.message_id == cart.message_id)
    assert "× 2" in seen(cart_now.text), seen(cart_now.text)
    assert "Нашлось по запросу «кружки»" in seen(bob.screen.text)

    async with admin.connect() as connection:
        assert await connection.scalar(select(func.sum(CartLine.quantity))) == 2
        order = (await connection.execute(select(Order.id, Order.status))).one()
        assert order.status == OrderStatus.PAID
        payments = await connection.scalar(
            select(func.count()).select_from(Payment).where(Payment.order_id == order.id)
        )
        paid = await connection.scalar(
            select(func.count()).select_from(OrderEvent).where(OrderEvent.to_status == "paid")
        )
    assert (payments, paid) == (1, 1)
    await eventually(lambda: _all_done(admin), within=5.0)
    async with admin.connect() as connection:
        search = (await connection.execute(select(InboxEvent).where(InboxEvent.id == cut[0]))).one()
        lane = (
            (
                await connection.execute(
                    select(InboxEvent.handled_at)
                    .where(InboxEvent.lane == search.lane, InboxEvent.id >= search.id)
                    .order_by(InboxEvent.id)
                )
            )
            .scalars()
            .all()
        )
    assert (search.attempts, search.last_error) == (0, None)  # a fault of the database
    assert len(lane) == 3 and lane == sorted(lane), lane  # search, press, payment: in order
    assert apologies(shop) == []
    assert failures(caplog) == []
    print(f"\nrecovered {recovered:.2f} s after the database came back")


async def _nothing_to_send(admin: AsyncEngine) -> bool:
    """The outbox is idle: nothing it sends can show up during the outage."""
    async with admin.connect() as connection:
        waiting = select(func.count()).where(OutboxMessage.status == OutboxStatus.PENDING)
        return await connection.scalar(waiting) == 0


async def _all_done(admin: AsyncEngine) -> bool:
    statuses = await inbox_statuses(admin)
    return set(statuses) == {InboxStatus.DONE.value}
