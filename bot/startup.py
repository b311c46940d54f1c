"""Before the shop starts: reach every configured service, and say in one line what is wrong.

`preflight` runs before `bot.app.start`: the HTTP port is free, the database answers (a
PostgreSQL that is not up yet is waited for, up to CONNECT_WAIT_SECONDS, backing off), the
Telegram token is accepted (getMe), the VK token belongs to VK_GROUP_ID, YooKassa accepts
the shop's keys. A network fault or a 5xx on the way is retried within the same wait. What a
person can fix raises `StartupError` naming the setting (exit code 2); what is out of their
hands has exit code 1. `check_services` is the same, one line per service (``python -m bot
check``).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bot.config import Settings
from bot.logs import redact

log = logging.getLogger("bot")

T = TypeVar("T")
PERSON, OUTSIDE = 2, 1
"""Exit codes: a setting or a resource a person can fix; a failure outside their hands."""
FIRST_DELAY, LONGEST_DELAY = 0.5, 5.0
SQLITE_FILE_FAULTS = ("unable to open", "readonly", "read-only", "not a database", "disk I/O")
"""SQLite's words for a file it cannot use (as opposed to a fault of the schema or the code)."""


class StartupError(Exception):
    """Start-up cannot go on; the message is one line naming the setting or the resource."""

    def __init__(self, message: str, code: int = PERSON) -> None:
        super().__init__(redact(message))
        self.code = code


class Transient(Exception):
    """A fault worth another try (network, a 5xx); the message says which service. Once the
    wait is over it ends start-up with ``code``: 2 for the database (its URL or the server
    is the owner's), 1 for the messengers' and YooKassa's APIs (their outage is not)."""

    def __init__(self, message: str, code: int = OUTSIDE) -> None:
        super().__init__(message)
        self.code = code


def _brief(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    first = lines[0] if lines else ""
    first = first.removeprefix("(sqlalchemy.dialects.postgresql.asyncpg.Error) ")
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


async def retrying(what: Callable[[], Awaitable[T]], wait: float, name: str) -> T:
    """``what()``, tried again through `Transient` faults for up to ``wait`` seconds."""
    deadline = time.monotonic() + wait
    delay = FIRST_DELAY
    while True:
        try:
            return await what()
        except Transient as error:
            left = deadline - time.monotonic()
            if left <= 0:
                message = f"{error} (for {wait:.0f} s; CONNECT_WAIT_SECONDS)"
                raise StartupError(message, error.code) from None
            log.warning("%s not reachable yet (%s); again in %.1f s", name, error, delay)
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 2, LONGEST_DELAY)


# the HTTP port


def check_port(settings: Settings) -> None:
    """The aiohttp server will be able to listen on HTTP_HOST:HTTP_PORT."""
    where = f"{settings.http_host}:{settings.http_port}"
    try:
        infos = socket.getaddrinfo(
            settings.http_host, settings.http_port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as error:
        problem = f"HTTP_HOST: {settings.http_host!r} is no address here ({error})"
        raise StartupError(problem) from None
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(address)
            except OSError as error:
                raise StartupError(listen_problem(error, settings)) from None
    log.debug("HTTP port %s is free", where)


def listen_problem(error: OSError, settings: Settings) -> str:
    """One line for an error of binding the HTTP server's socket."""
    where = f"{settings.http_host}:{settings.http_port}"
    if error.errno == errno.EADDRINUSE:
        return f"HTTP_PORT: {where} is in use by another program; stop it or choose another port"
    if error.errno == errno.EACCES:
        return f"HTTP_PORT: {where} needs privileges to listen on; use a port above 1023"
    if error.errno == errno.EADDRNOTAVAIL:
        return f"HTTP_HOST: {settings.http_host} is not an address of this machine"
    return f"HTTP_HOST/HTTP_PORT: cannot listen on {where} ({error.strerror or error})"


# the database


def check_sqlite_folder(settings: Settings) -> None:
    """The SQLite file's folder exists and takes new files (the journal is written beside)."""
    url = make_url(settings.database_url)
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        return
    path = Path(url.database).expanduser().absolute()
    folder = path.parent
    if not folder.is_dir():
        raise StartupError(
            f"DATABASE_URL: the folder {folder} of the SQLite database does not exist; "
            "create it or name another path"
        )
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise StartupError(
            f"DATABASE_URL: the folder {folder} of the SQLite database is not writable "
            f"({error.strerror or error})"
        ) from None
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise StartupError(f"DATABASE_URL: the SQLite file {path} is not readable and writable")


def database_problem(error: BaseException, settings: Settings) -> StartupError | None:
    """A database error a person must fix (no use waiting), as one line; else None."""
    url = make_url(settings.database_url)
    cause = getattr(getattr(error, "orig", None), "__cause__", None) or error
    name = type(cause).__name__
    if name == "InvalidCatalogNameError":
        return StartupError(
            f"DATABASE_URL: the database {url.database!r} does not exist on "
            f"{url.host}:{url.port or 5432}; create it (createdb {url.database})"
        )
    if name in ("InvalidPasswordError", "InvalidAuthorizationSpecificationError"):
        return StartupError(f"DATABASE_URL: PostgreSQL refused the login ({_brief(cause)})")
    if "sqlite" in url.drivername and any(words in str(error) for words in SQLITE_FILE_FAULTS):
        return StartupError(f"DATABASE_URL: SQLite cannot use {url.database} ({_brief(cause)})")
    return None


async def reach_database(settings: Settings, wait: float) -> str:
    """Connect once (waiting for PostgreSQL up to ``wait`` s); returns what answered."""
    from shop.db import create_engine

    check_sqlite_folder(settings)
    url = make_url(settings.database_url)
    where = (
        f"SQLite {url.database}"
        if url.drivername.startswith("sqlite")
        else f"PostgreSQL {url.host}:{url.port or 5432}/{url.database}"
    )
    engine = create_engine(settings.database_url)

    async def connect() -> str:
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:
            problem = database_problem(error, settings)
            if problem is not None:
                raise problem from None
            if "sqlite" not in url.drivername and isinstance(
                error, OSError | TimeoutError | DBAPIError
            ):
                raise Transient(
                    f"DATABASE_URL: {where} does not answer ({_brief(error)})", PERSON
                ) from None
            raise
        return where

    try:
        return await retrying(connect, wait, "the database")
    finally:
        await engine.dispose()


# Telegram


async def reach_telegram(settings: Settings, wait: float) -> str:
    """getMe with the token; returns ``@username``."""
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.exceptions import (
        ClientDecodeError,
        TelegramNetworkError,
        TelegramNotFound,
        TelegramRetryAfter,
        TelegramServerError,
        TelegramUnauthorizedError,
    )
    from aiogram.utils.token import TokenValidationError

    try:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_server))
        bot = Bot(settings.telegram_bot_token, session=session)
    except TokenValidationError:
        raise StartupError(
            "TELEGRAM_BOT_TOKEN: not a bot token (it looks like 123456789:AAE…, from @BotFather)"
        ) from None

    async def get_me() -> str:
        try:
            me = await bot.get_me(request_timeout=15)
        except TelegramUnauthorizedError:
            raise StartupError(
                "TELEGRAM_BOT_TOKEN: Telegram refused the token (Unauthorized); "
                "copy it again from @BotFather"
            ) from None
        except TelegramNotFound:
            raise StartupError(
                f"TELEGRAM_API_SERVER: {settings.telegram_api_server} is no Bot API server "
                "(404), or the token is malformed"
            ) from None
        except (TelegramNetworkError, TelegramServerError, ClientDecodeError) as error:
            raise Transient(
                f"TELEGRAM_API_SERVER: {settings.telegram_api_server} does not answer "
                f"({_brief(error)})"
            ) from None
        except TelegramRetryAfter as error:
            raise Transient(f"Telegram asks to wait {error.retry_after} s") from None
        return f"@{me.username}"

    try:
        return await retrying(get_me, wait, "Telegram")
    finally:
        await bot.session.close()


# VK


async def reach_vk(settings: Settings, wait: float) -> str:
    """groups.getById with the community token; the token must be VK_GROUP_ID's."""
    import vk_api

    from bot.vk.calls import transient
    from bot.vk_session import make_vk_api

    vk = make_vk_api(settings.vk_group_token, settings.vk_group_id, settings.vk_api_url)

    async def get_group() -> str:
        try:
            answer = await asyncio.to_thread(vk.method, "groups.getById", {})
        except vk_api.ApiError as error:
            if transient(error):
                raise Transient(f"VK_API_URL: VK had a fault ({error})") from None
            if error.code in (5, 27, 28):
                raise StartupError(
                    f"VK_GROUP_TOKEN: VK refused the token (error {error.code}); create a new "
                    "one in the community's API usage settings"
                ) from None
            raise StartupError(f"VK_GROUP_TOKEN: VK refused groups.getById ({error})") from None
        except Exception as error:
            if transient(error):
                raise Transient(
                    f"VK_API_URL: {settings.vk_api_url} does not answer ({_brief(error)})"
                ) from None
            raise
        groups = answer.get("groups", answer) if isinstance(answer, dict) else answer
        group = groups[0] if groups else {}
        if group.get("id") != settings.vk_group_id:
            raise StartupError(
                f"VK_GROUP_ID: the token belongs to community {group.get('id')}, "
                f"not {settings.vk_group_id}"
            )
        await may_manage(vk, settings)
        return f"club{group.get('id')} {group.get('name', '')!r}"

    try:
        return await retrying(get_group, wait, "VK")
    finally:
        vk.http.close()


async def may_manage(vk: Any, settings: Settings) -> None:
    """The token may change the community's API settings (the bot switches its Long Poll
    or registers its Callback API server at start): groups.getLongPollSettings answers."""
    import vk_api

    from bot.vk.calls import transient

    try:
        await asyncio.to_thread(
            vk.method, "groups.getLongPollSettings", {"group_id": settings.vk_group_id}
        )
    except vk_api.ApiError as error:
        if transient(error):
            raise Transient(f"VK_API_URL: VK had a fault ({error})") from None
        if error.code in (15, 27):
            raise StartupError(
                f"VK_GROUP_TOKEN: the token may not manage the community (error {error.code}); "
                "create one with the management right in Manage → API usage"
            ) from None
        raise


# YooKassa


async def reach_yookassa(settings: Settings, wait: float) -> str:
    """A harmless authenticated call (the newest payment) to see the keys are accepted."""
    import aiohttp

    auth = aiohttp.BasicAuth(settings.yookassa_shop_id, settings.yookassa_secret_key)
    url = f"{settings.yookassa_api_url}/payments"

    async def list_one() -> str:
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http,
                http.get(url, params={"limit": "1"}, auth=auth) as response,
            ):
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as error:
            raise Transient(
                f"YOOKASSA_API_URL: {settings.yookassa_api_url} does not answer ({_brief(error)})"
            ) from None
        if status in (401, 403):
            raise StartupError(
                f"YOOKASSA_SHOP_ID/YOOKASSA_SECRET_KEY: YooKassa refused them ({status}); "
                "issue a secret key in the dashboard (Integration → API keys)"
            )
        if status >= 500:
            raise Transient(f"YOOKASSA_API_URL: YooKassa answers {status}")
        if status != 200:
            raise StartupError(f"YOOKASSA_API_URL: {url} answers {status}; is it YooKassa's API?")
        return f"shop {settings.yookassa_shop_id}"

    return await retrying(list_one, wait, "YooKassa")


# all of it


def services(settings: Settings) -> list[tuple[str, Callable[[Settings, float], Awaitable[str]]]]:
    found: list[tuple[str, Callable[[Settings, float], Awaitable[str]]]] = [
        ("database", reach_database)
    ]
    if settings.telegram_enabled:
        found.append(("telegram", reach_telegram))
    if settings.vk_enabled:
        found.append(("vk", reach_vk))
    if settings.yookassa_enabled:
        found.append(("yookassa", reach_yookassa))
    return found


async def preflight(settings: Settings) -> None:
    """Everything `bot.app.start` needs from outside; raises StartupError on the first fault."""
    check_port(settings)
    for name, reach in services(settings):
        found = await reach(settings, settings.connect_wait_seconds)
        log.debug("%s: %s answers", name, found)


async def check_services(settings: Settings, wait: float) -> list[tuple[str, bool, str]]:
    """(service, ok, what answered or what is wrong) for every service, configured or not."""
    results: list[tuple[str, bool, str]] = []
    configured = dict(services(settings))
    for name in ("database", "telegram", "vk", "yookassa"):
        reach = configured.get(name)
        if reach is None:
            results.append((name, True, "off (not configured)"))
            continue
        try:
            results.append((name, True, f"ok ({await reach(settings, wait)})"))
        except StartupError as error:
            results.append((name, False, str(error)))
        except Exception as error:
            results.append((name, False, redact(_brief(error))))
    return results


def describe_failure(error: BaseException, settings: Settings) -> StartupError:
    """A failure of `bot.app.start` (after the preflight) as one line and an exit code."""
    if isinstance(error, StartupError):
        return error
    if isinstance(error, OSError) and error.errno in (
        errno.EADDRINUSE,
        errno.EACCES,
        errno.EADDRNOTAVAIL,
    ):
        return StartupError(listen_problem(error, settings))
    problem = database_problem(error, settings)
    if problem is not None:
        return problem
    if type(error).__name__ == "TelegramUnauthorizedError":
        return StartupError("TELEGRAM_BOT_TOKEN: Telegram refused the token (Unauthorized)")
    if type(error).__name__ == "ApiError" and getattr(error, "code", None) in (5, 27, 28):
        return StartupError("VK_GROUP_TOKEN: VK refused the token")
    return StartupError(f"start-up failed: {_brief(error)}", OUTSIDE)
