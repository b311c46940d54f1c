"""``python -m bot``: start the shop with whatever is configured; ``python -m bot check``:
reach every configured service and say how each answered.

A start-up failure is one line on stderr naming the setting or the resource, exit code 2
when a person can fix it (1 when it is out of their hands); LOG_LEVEL=DEBUG adds the
traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
import traceback
import warnings

from bot.config import ConfigError, Settings, load_settings

log = logging.getLogger("bot")

SETTINGS_HELP = """\
settings (environment variables, or lines of ./.env; .env.example documents each):
  DATABASE_URL          sqlite+aiosqlite:///./shop.db (default) or postgresql+asyncpg://...
  TELEGRAM_BOT_TOKEN    from @BotFather; empty turns Telegram off
  TELEGRAM_API_SERVER, TELEGRAM_WEBHOOK_SECRET, TELEGRAM_PAYMENTS_PROVIDER_TOKEN
  VK_GROUP_TOKEN, VK_GROUP_ID   the VK community; empty turns VK off
  VK_API_URL, VK_CALLBACK_SECRET, VK_CALLBACK_CONFIRMATION
  YOOKASSA_SHOP_ID, YOOKASSA_SECRET_KEY   empty turns YooKassa off
  YOOKASSA_API_URL, YOOKASSA_VAT_CODE, YOOKASSA_CHECK_IP
  PUBLIC_BASE_URL       set: webhooks; empty: the bot polls Telegram and VK itself
  HTTP_HOST, HTTP_PORT  where /healthz, /metrics and the webhooks are served (127.0.0.1:8080)
  OWNERS, STAFF         accounts as telegram:ID,vk:ID
  MODERATOR_CHAT        where tickets go: telegram:-100123... (or the bare chat id)
  REDIS_URL, RESERVATION_MINUTES, MAX_UNPAID_ORDERS, MAX_UNITS_PER_SKU, DEMO_CATALOG
  TELEGRAM_SEND_RATE, VK_SEND_RATE   messages (VK: requests) a second, all workers (29.5, 19.5)
  LOG_LEVEL             DEBUG, INFO (default), WARNING or ERROR
  LOG_FORMAT            text (default) or json: one event a line
  CONNECT_WAIT_SECONDS  how long start-up waits for the database and the APIs (30)

exit codes: 0 stopped cleanly (or check passed), 2 a setting or a resource to fix
(the line names it), 1 a failure outside your hands."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="The social shop: serves Telegram and VK shoppers, webhooks, "
        "/healthz and /metrics. Applies database migrations first.",
        epilog=SETTINGS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=("run", "check"),
        help="run: start the shop until SIGINT/SIGTERM (the default); check: validate the "
        "settings, reach each configured service (database, Telegram, VK, YooKassa), print "
        "one line per service and exit 0 when all answer, else 2",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        from bot.logs import redact

        print(f"Configuration error: {redact(str(error))}", file=sys.stderr)
        return 2
    from bot.logs import setup_logging

    setup_logging(settings.log_level, settings.log_format, settings.secret_values())
    try:
        if args.command == "check":
            return asyncio.run(check(settings))
        return asyncio.run(run(settings))
    except KeyboardInterrupt:
        return 130


async def check(settings: Settings) -> int:
    from bot.startup import check_services

    results = await check_services(settings, wait=min(settings.connect_wait_seconds, 5.0))
    for name, ok, what in results:
        print(f"{name}: {what}" if ok else f"{name}: FAILED: {what}")
    return 0 if all(ok for _, ok, _ in results) else 2


async def run(settings: Settings) -> int:
    from bot.startup import describe_failure, preflight

    try:
        await preflight(settings)
        from bot.app import serve  # after the settings are known to be good

        await serve(settings)
    except Exception as error:
        failure = describe_failure(error, settings)
        if settings.log_level == "DEBUG":
            log.error("start-up failed", exc_info=error)
        with warnings.catch_warnings():
            # The jobs a failed start made but never ran go without a warning each.
            warnings.filterwarnings("ignore", "coroutine .* was never awaited", RuntimeWarning)
            traceback.clear_frames(error.__traceback__)
            gc.collect()
        print(f"Cannot start: {failure}", file=sys.stderr)
        return failure.code
    return 0


if __name__ == "__main__":
    sys.exit(main())
