"""The one place that builds everything: engine, migrations, demo data, HTTP server, front-ends,
periodic jobs. ``python -m bot`` runs it until SIGINT or SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import budget
from bot.config import Settings
from bot.delivery import OutboxDelivery
from bot.frontend import Frontend
from bot.http import create_web_app
from bot.inbox import InboxWorker
from bot.jobs import sla_job, standard_jobs
from bot.migrate import upgrade_database
from bot.sending_role import SendingRole
from handlers.context import Options
from handlers.conversation import Conversation
from shop import outbox
from shop.accounts import Channel
from shop.billing import PaymentGateway
from shop.db import create_engine, create_session_factory
from shop.demo import load_demo_catalog
from shop.roles import Roster

log = logging.getLogger("bot")


@dataclass
class Runtime:
    """What a running process holds, so that it can be stopped cleanly."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    web_app: web.Application
    worker: InboxWorker
    runner: web.AppRunner | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    closers: list[Callable[[], object]] = field(default_factory=list)
    base_url: str = ""
    frontends: list[Frontend] = field(default_factory=list)
    role: SendingRole | None = None

    async def stop(self) -> None:
        for frontend in self.frontends:
            await frontend.stop()
        await self.worker.close()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.role is not None:
            await self.role.release()
        budget.stop()
        if self.runner is not None:
            await self.runner.cleanup()
        for close in self.closers:
            close()
        await self.engine.dispose()


def front_end_status(settings: Settings) -> list[str]:
    """One line per front-end: on, or off and why."""
    lines = []
    if settings.telegram_enabled:
        mode = "webhook" if settings.webhook_mode else "long polling"
        invoices = "invoices on" if settings.telegram_payments_provider_token else "no invoices"
        lines.append(
            f"Telegram: on ({mode}, {invoices}, API server {settings.telegram_api_server})"
        )
    else:
        lines.append("Telegram: off (no TELEGRAM_BOT_TOKEN)")
    if settings.vk_enabled:
        mode = "Callback API" if settings.webhook_mode else "Bots Long Poll"
        lines.append(f"VK: on ({mode}, API {settings.vk_api_url})")
    else:
        missing = "VK_GROUP_TOKEN" if not settings.vk_group_token else "VK_GROUP_ID"
        lines.append(f"VK: off (no {missing})")
    if settings.yookassa_enabled:
        mode = "notifications" if settings.webhook_mode else "polling, no PUBLIC_BASE_URL"
        lines.append(f"YooKassa: on ({settings.yookassa_api_url}, {mode})")
    else:
        lines.append("YooKassa: off (no YOOKASSA_SHOP_ID / YOOKASSA_SECRET_KEY)")
    return lines


def _yookassa(settings: Settings, runtime: Runtime, jobs: list[Awaitable[None]]) -> PaymentGateway:
    """The YooKassa gateway, its notification endpoint, and polling (often without webhooks)."""
    from bot.payment_webhooks import add_yookassa_routes, payment_polling_job
    from payments.yookassa import YooKassaGateway

    gateway = YooKassaGateway(
        settings.yookassa_shop_id,
        settings.yookassa_secret_key,
        settings.yookassa_api_url,
        vat_code=settings.yookassa_vat_code,
    )
    runtime.closers.append(gateway.close)
    add_yookassa_routes(
        runtime.web_app,
        runtime.sessions,
        gateway,
        runtime.worker,
        check_ip=settings.yookassa_check_ip,
    )
    jobs.append(payment_polling_job(runtime.sessions, gateway, webhook_mode=settings.webhook_mode))
    return gateway


def _telegram(
    settings: Settings,
    runtime: Runtime,
    conversation: Conversation,
    readers: async_sessionmaker[AsyncSession],
) -> Frontend:
    """The Telegram front-end (invoices when a provider token is set)."""
    # aiogram takes seconds to import: only when Telegram is on.
    from bot.telegram.frontend import TelegramFrontend, make_bot

    return TelegramFrontend(
        make_bot(settings.telegram_bot_token, settings.telegram_api_server),
        conversation,
        runtime.sessions,
        runtime.worker,
        readers=readers,
        webhook_url=settings.public_base_url,
        webhook_secret=settings.telegram_webhook_secret,
        provider_token=settings.telegram_payments_provider_token,
    )


def _vk(
    settings: Settings,
    runtime: Runtime,
    conversation: Conversation,
    readers: async_sessionmaker[AsyncSession],
) -> Frontend:
    """The VK front-end (Callback API when PUBLIC_BASE_URL is set)."""
    from bot.vk.frontend import VkFrontend
    from bot.vk_session import make_vk_api

    assert settings.vk_group_id is not None  # vk_enabled
    return VkFrontend(
        make_vk_api(settings.vk_group_token, settings.vk_group_id, settings.vk_api_url),
        conversation,
        runtime.sessions,
        runtime.worker,
        group_id=settings.vk_group_id,
        readers=readers,
        callback_url=settings.public_base_url,
        callback_secret=settings.vk_callback_secret,
        confirmation=settings.vk_callback_confirmation,
    )


def build_frontends(
    settings: Settings,
    runtime: Runtime,
    conversation: Conversation,
    readers: async_sessionmaker[AsyncSession],
) -> list[Frontend]:
    """Every configured front-end, in the order they start."""
    builders = [(settings.telegram_enabled, _telegram), (settings.vk_enabled, _vk)]
    return [build(settings, runtime, conversation, readers) for on, build in builders if on]


def support_couriers(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    frontends: list[Frontend],
    jobs: list[Awaitable[None]],
) -> dict[str, Any]:
    """Ticket deliveries (and the SLA reminder job) where the moderator chat is on Telegram."""
    chat = settings.moderator_chat
    telegram = next((f for f in frontends if f.channel is Channel.TELEGRAM), None)
    if chat is None or chat.channel is not Channel.TELEGRAM or telegram is None:
        return {}
    from bot.support_relay import KINDS, SupportRelay
    from bot.telegram.support_topics import TopicDesk

    owners = sorted(settings.owners, key=str)
    desk = TopicDesk(telegram.bot, sessions, chat.external_id, owners)  # type: ignore[attr-defined]
    vk = next((f for f in frontends if f.channel is Channel.VK), None)
    others: dict[Channel, Frontend] = {
        f.channel: f for f in frontends if f.channel not in (Channel.TELEGRAM, Channel.VK)
    }
    relay = SupportRelay(sessions, desk, vk, others)
    jobs.append(sla_job(sessions, settings.support_sla_minutes))
    return dict.fromkeys(KINDS, relay)


async def _share_sending(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    background: list[Awaitable[None]],
) -> SendingRole | None:
    """One send budget: shared through Redis; else on PostgreSQL one process sends at a
    time (the sending role, tried for here first); else (SQLite) this one process, which
    sends again at once what it had claimed when it last stopped."""
    sole = settings.database_url.startswith("sqlite")
    standby = not settings.redis_url and not sole
    budget.use(
        settings.redis_url,
        telegram_per_second=settings.telegram_send_rate,
        vk_per_second=settings.vk_send_rate,
        standby=standby,
    )
    if standby:
        role = SendingRole(engine, sessions)
        await role.take_at_start()
        background.append(role.run_forever())
        return role
    if sole:
        async with sessions() as session, session.begin():
            await outbox.release_leases(session)
    return None


async def start(settings: Settings) -> Runtime:
    """Migrate, seed, serve HTTP and start every configured part; return the handle to stop."""
    engine = create_engine(settings.database_url)
    await upgrade_database(engine)
    sessions = create_session_factory(engine)
    if settings.demo_catalog:
        async with sessions() as session, session.begin():
            if await load_demo_catalog(session):
                log.info("Loaded the demo catalog (DEMO_CATALOG=false turns this off)")

    runtime = Runtime(settings, engine, sessions, create_web_app(engine), InboxWorker(sessions))
    background: list[Awaitable[None]] = [*standard_jobs(sessions), runtime.worker.run_sweeper()]
    runtime.role = await _share_sending(settings, engine, sessions, background)
    options = Options(
        reservation_minutes=settings.reservation_minutes,
        gateway=_yookassa(settings, runtime, background) if settings.yookassa_enabled else None,
        vat_code=settings.yookassa_vat_code,
        max_unpaid_orders=settings.max_unpaid_orders,
        max_units_per_sku=settings.max_units_per_sku,
        roster=Roster(owners=frozenset(settings.owners), staff=frozenset(settings.staff)),
        moderator_chat=settings.moderator_chat,
    )
    conversation = Conversation(sessions, options)
    readers = create_session_factory(engine, read_only=True)
    runtime.frontends = build_frontends(settings, runtime, conversation, readers)
    for frontend in runtime.frontends:
        frontend.add_routes(runtime.web_app)
    senders = {frontend.channel: frontend for frontend in runtime.frontends}
    couriers = support_couriers(settings, sessions, runtime.frontends, background)
    background.append(
        OutboxDelivery(
            sessions,
            senders,
            moderator_chat=settings.moderator_chat,
            roster=options.roster,
            couriers=couriers,
        ).run_forever()
    )

    runtime.runner = web.AppRunner(runtime.web_app, access_log=None)
    await runtime.runner.setup()
    site = web.TCPSite(runtime.runner, settings.http_host, settings.http_port)
    await site.start()
    host, port = runtime.runner.addresses[0][:2]
    runtime.base_url = f"http://{host}:{port}"
    log.info("HTTP server on %s (health: %s/healthz)", runtime.base_url, runtime.base_url)
    for line in front_end_status(settings):
        log.info(line)
    for frontend in runtime.frontends:
        try:
            await frontend.start()
        except Exception:
            await runtime.stop()
            raise

    runtime.tasks = [asyncio.create_task(job) for job in background]  # type: ignore[arg-type]
    return runtime


async def serve(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then stop every part cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runtime = await start(settings)
    # What start-up made lives as long as the process: frozen, and young objects collected
    # less often, the collector costs almost nothing per update (bench/README.md).
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    try:
        await stop.wait()
    finally:
        log.info("Stopping")
        await runtime.stop()
