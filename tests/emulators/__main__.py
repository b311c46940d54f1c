"""`python -m tests.emulators`: Telegram, VK and YooKassa emulators for trying the bot by hand.

Prints the settings for .env so `make run` (python -m bot) talks to the emulators. In a
terminal it then reads commands, so you can write to the bot as a shopper (type `help`).
Without a terminal (in the background, under nohup) there is no console: it serves until
SIGINT or SIGTERM.

The bot token, the VK community, the YooKassa shop, the ports and the shoppers' user ids
are kept in a state file (.emulators.json in the working folder), so the .env printed once
stays valid run after run; `--fresh` starts anew.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.emulators.console import HELP, Console
from tests.emulators.telegram import TelegramEmulator
from tests.emulators.vk import VkEmulator
from tests.emulators.yookassa import YooKassaEmulator

DEFAULT_PORT = 8081  # Telegram; VK is the next port, YooKassa the one after
STATE_FILE = ".emulators.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.emulators",
        description=__doc__,
        epilog=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="where to listen (127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        help=f"Telegram's port, VK on the next one, YooKassa on the one after "
        f"(default {DEFAULT_PORT}, or the ports of the last run)",
    )
    parser.add_argument("--tg-port", type=int, help="Telegram's port alone")
    parser.add_argument("--vk-port", type=int, help="VK's port alone")
    parser.add_argument("--yk-port", type=int, help="YooKassa's port alone")
    parser.add_argument(
        "--state",
        type=Path,
        default=Path(STATE_FILE),
        help=f"where the token, ids and ports are kept between runs (default {STATE_FILE})",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="new token, ids and shoppers (the state is rewritten)"
    )
    parser.add_argument(
        "--bot-username", help="the Telegram bot's username (default: kept, or demo_shop_bot)"
    )
    parser.add_argument(
        "--vk-group-name", help="the VK community's name (default: kept, or Демо-магазин)"
    )
    parser.add_argument(
        "--yk-notify-url",
        help="where YooKassa notifications go on every status change (the bot's webhook)",
    )
    console = parser.add_mutually_exclusive_group()
    console.add_argument(
        "--console",
        action="store_true",
        help="read commands from stdin even when it is not a terminal (a script of commands; "
        "at its end the emulators keep serving)",
    )
    console.add_argument(
        "--no-console",
        "--no-repl",
        dest="no_console",
        action="store_true",
        help="no console even in a terminal: serve until Ctrl-C or SIGTERM",
    )
    return parser.parse_args(argv)


# -- the state file --------------------------------------------------------------------------


def load_state(path: Path, fresh: bool) -> dict[str, Any]:
    if fresh or not path.exists():
        return {}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"# {path} is unreadable ({error}); starting anew", flush=True)
        return {}
    return state if isinstance(state, dict) else {}


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Write atomically, so an interrupted run never leaves half a file."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(state, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def resolve_ports(args: argparse.Namespace, state: dict[str, Any]) -> dict[str, int]:
    """Explicit options, else the last run's ports, else the defaults."""
    saved = state.get("ports") or {}
    base = args.port if args.port is not None else saved.get("telegram", DEFAULT_PORT)
    explicit_base = args.port is not None
    ports = {}
    for offset, (name, option) in enumerate(
        (("telegram", args.tg_port), ("vk", args.vk_port), ("yookassa", args.yk_port))
    ):
        if option is not None:
            ports[name] = option
        elif explicit_base or name not in saved:
            ports[name] = base + offset
        else:
            ports[name] = saved[name]
    return ports


def next_update_id(saved: int | None) -> int:
    """Telegram update ids keep growing across runs: a bot still running from the last run
    has confirmed everything below its offset and would skip smaller ids."""
    by_clock = 10**8 + int(time.time()) - 1_700_000_000
    return max(saved or 0, by_clock)


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


class Emulators:
    """The three emulators with the identities of the state file (new ones where missing)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.state = load_state(args.state, args.fresh)
        self.telegram, self.vk, self.yookassa = (
            TelegramEmulator(),
            VkEmulator(),
            YooKassaEmulator(),
        )
        self.started: list[Any] = []
        self.ready = False  # started, with its identities

    async def start(self) -> None:
        ports = resolve_ports(self.args, self.state)
        for emulator, name in (
            (self.telegram, "telegram"),
            (self.vk, "vk"),
            (self.yookassa, "yookassa"),
        ):
            try:
                await emulator.start(self.args.host, ports[name])
            except OSError as error:
                raise SystemExit(
                    f"cannot listen on {self.args.host}:{ports[name]} for {name} ({error}); "
                    "is another `python -m tests.emulators` running? Or pick --port"
                ) from error
            self.started.append(emulator)
        saved_tg = self.state.get("telegram") or {}
        saved_vk = self.state.get("vk") or {}
        saved_yk = self.state.get("yookassa") or {}
        self.token = self.telegram.create_bot(
            username=self.args.bot_username or saved_tg.get("bot_username", "demo_shop_bot"),
            token=saved_tg.get("token"),
        )
        bot = self.telegram.bot(self.token)
        bot._update_ids = itertools.count(next_update_id(saved_tg.get("next_update_id")))
        self.group = self.vk.create_group(
            name=self.args.vk_group_name or saved_vk.get("group_name", "Демо-магазин"),
            group_id=saved_vk.get("group_id"),
        )
        if saved_vk.get("token"):
            del self.vk.world.tokens[self.group.token]
            self.group.token = saved_vk["token"]
            self.vk.world.tokens[self.group.token] = self.group
        if saved_vk.get("confirmation"):
            self.group.confirmation = saved_vk["confirmation"]
        self.shop = self.yookassa.create_shop(saved_yk.get("shop_id"), saved_yk.get("secret_key"))
        if self.args.yk_notify_url:
            self.yookassa.set_notification_url(self.args.yk_notify_url)
            self.yookassa.auto_notify = True
        people = self.state.get("people") or {}
        self.people: dict[str, dict[str, int]] = {
            "tg": dict(people.get("tg") or {}),
            "vk": dict(people.get("vk") or {}),
        }
        self.ports = ports
        self.ready = True
        self.save()

    def save(self) -> None:
        bot = self.telegram.bot(self.token)
        upcoming = next(bot._update_ids)
        bot._update_ids = itertools.count(upcoming)
        self.state = {
            "ports": self.ports,
            "telegram": {
                "token": self.token,
                "bot_username": bot.user.username,
                "next_update_id": upcoming,
            },
            "vk": {
                "group_id": self.group.id,
                "group_name": self.group.name,
                "token": self.group.token,
                "confirmation": self.group.confirmation,
            },
            "yookassa": {"shop_id": self.shop[0], "secret_key": self.shop[1]},
            "people": self.people,
        }
        try:
            save_state(self.args.state, self.state)
        except OSError as error:
            print(f"# cannot write {self.args.state}: {error}", flush=True)

    async def stop(self) -> None:
        for emulator in reversed(self.started):
            await emulator.stop()

    def banner(self) -> str:
        lines = [
            settings_text(self.telegram, self.token, self.vk, self.group, self.yookassa, self.shop),
            f"# A payment link opens {self.yookassa.base_url}/checkout/<id>",
            f"# VK Callback API confirmation string: {self.group.confirmation}",
            f"# Kept in {self.args.state} for the next run (--fresh starts anew).",
        ]
        for platform, title in (("tg", "Telegram"), ("vk", "VK")):
            if self.people[platform]:
                known = ", ".join(f"{n}={uid}" for n, uid in self.people[platform].items())
                lines.append(f"# {title} shoppers: {known}")
        return "\n".join(lines)


def read_stdin(loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]) -> None:
    """Blocking reads in a daemon thread, so Ctrl-C is never stuck waiting for Enter."""
    for line in sys.stdin:
        loop.call_soon_threadsafe(lines.put_nowait, line)
    loop.call_soon_threadsafe(lines.put_nowait, None)


def wants_console(args: argparse.Namespace) -> bool:
    if args.no_console:
        return False
    if args.console:
        return True
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):  # closed stdin
        return False


async def serve(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    emulators = Emulators(args)
    try:
        await emulators.start()
        print(emulators.banner(), flush=True)
        console = Console(
            emulators.telegram,
            emulators.token,
            emulators.vk,
            emulators.group,
            emulators.yookassa,
            emulators.people,
            on_new_person=emulators.save,
        )
        console.register_known()  # their chats exist, so the bot can write to them at once
        if wants_console(args):
            lines: asyncio.Queue[str | None] = asyncio.Queue()
            threading.Thread(target=read_stdin, args=(loop, lines), daemon=True).start()
            session = asyncio.create_task(console.run(lines))
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({session, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            quit_asked = session.done() and session.result()
            session.cancel()
            if not stop.is_set() and not quit_asked and not sys.stdin.isatty():
                print("# end of the commands; serving until Ctrl-C or SIGTERM", flush=True)
                await stop.wait()
        else:
            why = "--no-console" if args.no_console else "stdin is not a terminal"
            print(f"# No console ({why}): serving until SIGINT/SIGTERM.", flush=True)
            await stop.wait()
        print("# stopping", flush=True)
    finally:
        if emulators.ready:
            emulators.save()
        await emulators.stop()


def main(argv: list[str] | None = None) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
