"""`python -m tests.emulators`: Telegram, VK and YooKassa emulators on fixed local ports.

Prints the settings for .env so `make run` talks to them, then reads commands from stdin so
a person can play the shopper by hand (type `help`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shlex
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from tests.emulators.telegram import TelegramEmulator
from tests.emulators.vk import VkEmulator
from tests.emulators.yookassa import YooKassaEmulator

HELP = """commands:
  tg <user> <text>             send a message to the Telegram bot as <user>
  tgpress <user> <button>      press a button on <user>'s Telegram screen
  vk <user> <text>             send a message to the VK community as <user>
  vkpress <user> <button>      press a button on <user>'s VK screen
  tgpay <user>                 pay the last Telegram invoice in <user>'s chat
  screen tg|vk <user>          show what <user> sees now
  payments                     list YooKassa payments
  pay [<payment_id>]           pay a payment (the newest pending one when no id is given)
  decline <payment_id>         the bank declines it (insufficient_funds)
  help, quit"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.emulators", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--tg-port", type=int, default=8081)
    parser.add_argument("--vk-port", type=int, default=8082)
    parser.add_argument("--yk-port", type=int, default=8083)
    parser.add_argument("--bot-username", default="demo_shop_bot")
    parser.add_argument("--vk-group-name", default="Демо-магазин")
    parser.add_argument(
        "--yk-notify-url",
        help="where YooKassa notifications go on every status change (the bot's webhook)",
    )
    parser.add_argument(
        "--no-repl", action="store_true", help="serve until Ctrl-C without reading stdin"
    )
    return parser.parse_args(argv)


def settings_text(
    telegram: TelegramEmulator,
    token: str,
    vk: VkEmulator,
    group: Any,
    yookassa: YooKassaEmulator,
    shop: tuple[str, str],
) -> str:
    shop_id, secret_key = shop
    return "\n".join(
        [
            "# Put these in .env, then `make run` in another terminal:",
            f"TELEGRAM_BOT_TOKEN={token}",
            f"TELEGRAM_API_SERVER={telegram.api_server_url}",
            # The test-mode shape of a YooKassa provider token in Telegram Payments.
            f"TELEGRAM_PAYMENTS_PROVIDER_TOKEN=381764678:TEST:{shop_id}",
            f"VK_GROUP_TOKEN={group.token}",
            f"VK_GROUP_ID={group.id}",
            f"VK_API_URL={vk.api_url}",
            f"YOOKASSA_SHOP_ID={shop_id}",
            f"YOOKASSA_SECRET_KEY={secret_key}",
            f"YOOKASSA_API_URL={yookassa.api_url}",
        ]
    )


def screen_of(user: Any) -> str:
    """What the user sees; the drivers raise AssertionError while the bot has said nothing."""
    try:
        screen = user.screen
    except AssertionError:
        return "(the bot has not written yet)"
    return render_screen(screen)


def render_screen(screen: Any) -> str:
    """A screen as text: the message, then each row of buttons in brackets."""
    lines = [getattr(screen, "text", None) or "(no text)"]
    for row in getattr(screen, "buttons", None) or []:
        buttons = row if isinstance(row, list | tuple) else [row]
        lines.append("  ".join(f"[{_label(button)}]" for button in buttons))
    return "\n".join(lines)


def _label(button: Any) -> str:
    if isinstance(button, str):
        return button
    return str(getattr(button, "text", None) or getattr(button, "label", None) or button)


class Console:
    """The commands a person types; users are created on first mention and kept by name."""

    def __init__(
        self,
        telegram: TelegramEmulator,
        token: str,
        vk: VkEmulator,
        group: Any,
        yookassa: YooKassaEmulator,
    ) -> None:
        self.telegram, self.token = telegram, token
        self.vk, self.group = vk, group
        self.yookassa = yookassa
        self.users: dict[tuple[str, str], Any] = {}
        self.commands: dict[str, Callable[[list[str]], Awaitable[str]]] = {
            "tg": lambda a: self._send("tg", a),
            "tgpress": lambda a: self._press("tg", a),
            "vk": lambda a: self._send("vk", a),
            "vkpress": lambda a: self._press("vk", a),
            "tgpay": self._tgpay,
            "screen": self._screen,
            "payments": self._payments,
            "pay": self._pay,
            "decline": self._decline,
            "help": self._help,
        }

    async def run(self, lines: asyncio.Queue[str | None]) -> None:
        print(HELP, flush=True)
        while (line := await lines.get()) is not None:
            words = _split(line)
            if not words:
                continue
            if words[0] in ("quit", "exit"):
                return
            command = self.commands.get(words[0])
            if command is None:
                print(f"unknown command {words[0]!r}; type help", flush=True)
                continue
            try:
                print(await command(words[1:]), flush=True)
            except Exception as error:  # a typo must not end the session
                print(f"error: {type(error).__name__}: {error}", flush=True)

    def user(self, platform: str, name: str) -> Any:
        key = (platform, name)
        if key not in self.users:
            if platform == "tg":
                self.users[key] = self.telegram.user(
                    self.token, first_name=name, language_code="ru"
                )
            else:
                self.users[key] = self.vk.user(self.group, first_name=name)
        return self.users[key]

    async def _send(self, platform: str, args: list[str]) -> str:
        name, text = _user_and_rest(args, "text")
        user = self.user(platform, name)
        await user.send(text)
        return screen_of(user)

    async def _press(self, platform: str, args: list[str]) -> str:
        name, label = _user_and_rest(args, "button text")
        user = self.user(platform, name)
        await user.press(label)
        return screen_of(user)

    async def _tgpay(self, args: list[str]) -> str:
        if len(args) != 1:
            raise ValueError("usage: tgpay <user>")
        user = self.user("tg", args[0])
        result = await user.pay()
        return f"{result}\n{screen_of(user)}"

    async def _screen(self, args: list[str]) -> str:
        if len(args) != 2 or args[0] not in ("tg", "vk"):
            raise ValueError("usage: screen tg|vk <user>")
        return screen_of(self.user(args[0], args[1]))

    async def _payments(self, args: list[str]) -> str:
        rows = [
            f"{p.id}  {p.status:<20} {p.amount:>10} RUB  {p.description or ''}"
            for p in self.yookassa.payments.values()
        ]
        return "\n".join(rows) or "(no payments)"

    async def _pay(self, args: list[str]) -> str:
        payment_id = args[0] if args else self._newest_pending()
        payment = self.yookassa.pay(payment_id)
        return f"{payment_id}: {payment['status']}"

    async def _decline(self, args: list[str]) -> str:
        if not args:
            raise ValueError("usage: decline <payment_id>")
        payment = self.yookassa.cancel(args[0], "insufficient_funds")
        return f"{args[0]}: {payment['status']}"

    async def _help(self, args: list[str]) -> str:
        return HELP

    def _newest_pending(self) -> str:
        pending = [p.id for p in self.yookassa.payments.values() if p.status == "pending"]
        if not pending:
            raise ValueError("no pending payment")
        return pending[-1]


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError:
        return line.split()


def _user_and_rest(args: list[str], what: str) -> tuple[str, str]:
    if len(args) < 2:
        raise ValueError(f"usage: <command> <user> <{what}>")
    return args[0], " ".join(args[1:])


def read_stdin(loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]) -> None:
    """Blocking reads in a daemon thread, so Ctrl-C is never stuck waiting for Enter."""
    for line in sys.stdin:
        loop.call_soon_threadsafe(lines.put_nowait, line)
    loop.call_soon_threadsafe(lines.put_nowait, None)


async def serve(args: argparse.Namespace) -> None:
    telegram, vk, yookassa = TelegramEmulator(), VkEmulator(), YooKassaEmulator()
    started: list[Any] = []
    try:
        for emulator, port in (
            (telegram, args.tg_port),
            (vk, args.vk_port),
            (yookassa, args.yk_port),
        ):
            await emulator.start(args.host, port)
            started.append(emulator)
        token = telegram.create_bot(username=args.bot_username)
        group = vk.create_group(name=args.vk_group_name)
        shop = yookassa.create_shop()
        if args.yk_notify_url:
            yookassa.set_notification_url(args.yk_notify_url)
            yookassa.auto_notify = True
        print(settings_text(telegram, token, vk, group, yookassa, shop), flush=True)
        print(f"# A payment link opens {yookassa.base_url}/checkout/<id>", flush=True)
        if args.no_repl:
            await asyncio.Event().wait()
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        threading.Thread(target=read_stdin, args=(loop, lines), daemon=True).start()
        await Console(telegram, token, vk, group, yookassa).run(lines)
    finally:
        for emulator in reversed(started):
            await emulator.stop()


def main(argv: list[str] | None = None) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
