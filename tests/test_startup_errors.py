"""Start-up failures a person can cause: one line naming the setting or the resource, exit 2.

Each case runs ``python -m bot`` as an owner would and reads its stderr; the emulators
stand in for Telegram, VK and YooKassa, served from a thread of the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.emulators.telegram import TelegramEmulator
from tests.emulators.vk import VkEmulator
from tests.emulators.yookassa import YooKassaEmulator

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("TEST_DATABASE_URL", "")
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bot_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of an owner's shell: no tokens but the ones given."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM", "VK_", "YOOKASSA", "LOG_", "MODERATOR", "DATABASE"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/shop.db",
        HTTP_PORT=str(free_port()),
        CONNECT_WAIT_SECONDS="5",
    )
    env.update(extra)
    return env


def run_bot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=bot_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=90,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The only line on stderr (start-up logs are allowed only at WARNING and up)."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr
    assert "never awaited" not in result.stderr
    assert len(lines) == 1, result.stderr
    return lines[0]


class Emulators:
    """Telegram, VK and YooKassa emulators on a loop of their own, in a thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.telegram = TelegramEmulator()
        self.vk = VkEmulator()
        self.yookassa = YooKassaEmulator()
        for emulator in (self.telegram, self.vk, self.yookassa):
            self.run(emulator.start())
        self.token = self.telegram.create_bot(username="demo_shop_bot")
        self.group = self.vk.create_group(name="Shop")
        self.shop_id, self.secret_key = self.yookassa.create_shop()

    def run(self, job: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(job, self.loop).result(timeout=60)

    def call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        """A plain method of an emulator, called on its loop."""

        async def job() -> Any:
            return function(*args, **kwargs)

        return self.run(job())

    def settings(self, **extra: str) -> dict[str, str]:
        values = {
            "TELEGRAM_BOT_TOKEN": self.token,
            "TELEGRAM_API_SERVER": self.telegram.api_server_url,
            "VK_GROUP_TOKEN": self.group.token,
            "VK_GROUP_ID": str(self.group.id),
            "VK_API_URL": self.vk.api_url,
            "YOOKASSA_SHOP_ID": self.shop_id,
            "YOOKASSA_SECRET_KEY": self.secret_key,
            "YOOKASSA_API_URL": self.yookassa.api_url,
        }
        values.update(extra)
        return values

    def close(self) -> None:
        for emulator in (self.telegram, self.vk, self.yookassa):
            self.run(emulator.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="module")
def emulators() -> Iterator[Emulators]:
    running = Emulators()
    yield running
    running.close()


# settings and resources a person gets wrong


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        (
            {"TELEGRAM_BOT_TOKEN": "not-a-token"},
            "Cannot start: TELEGRAM_BOT_TOKEN: not a bot token",
        ),
        ({"MODERATOR_CHAT": "moderators"}, "Configuration error: MODERATOR_CHAT: 'moderators' is"),
        ({"LOG_FORMAT": "xml"}, "Configuration error: LOG_FORMAT: use text or json"),
        ({"LOG_LEVEL": "LOUD"}, "Configuration error: LOG_LEVEL: use one of DEBUG"),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_2(tmp_path, settings, says):
    result = run_bot(tmp_path, **settings)
    assert result.returncode == 2
    assert one_line(result).startswith(says)


def test_a_refused_telegram_token_is_one_line(tmp_path, emulators):
    wrong = emulators.token.split(":")[0] + ":" + "x" * 35
    result = run_bot(tmp_path, **emulators.settings(TELEGRAM_BOT_TOKEN=wrong))
    assert result.returncode == 2
    assert one_line(result) == (
        "Cannot start: TELEGRAM_BOT_TOKEN: Telegram refused the token (Unauthorized); "
        "copy it again from @BotFather"
    )
    assert "x" * 35 not in result.stderr


def test_a_refused_vk_token_is_one_line(tmp_path, emulators):
    result = run_bot(tmp_path, **emulators.settings(VK_GROUP_TOKEN="wrong-token"))
    assert result.returncode == 2
    assert one_line(result).startswith("Cannot start: VK_GROUP_TOKEN: VK refused the token")


def test_a_vk_token_of_another_community_names_the_group_id(tmp_path, emulators):
    result = run_bot(tmp_path, **emulators.settings(VK_GROUP_ID=str(emulators.group.id + 1)))
    assert result.returncode == 2
    assert one_line(result).startswith("Cannot start: VK_GROUP_ID: the token belongs to")


def test_a_vk_token_that_may_not_manage_the_community_is_one_line(tmp_path, emulators):
    emulators.vk.fail_next("groups.getLongPollSettings", 15)
    result = run_bot(tmp_path, **emulators.settings())
    assert result.returncode == 2
    assert one_line(result).startswith(
        "Cannot start: VK_GROUP_TOKEN: the token may not manage the community (error 15)"
    )


def test_refused_yookassa_keys_are_one_line(tmp_path, emulators):
    result = run_bot(tmp_path, **emulators.settings(YOOKASSA_SECRET_KEY="test_wrong"))
    assert result.returncode == 2
    assert one_line(result).startswith(
        "Cannot start: YOOKASSA_SHOP_ID/YOOKASSA_SECRET_KEY: YooKassa refused them (401)"
    )
    assert "test_wrong" not in result.stderr


def test_a_port_in_use_is_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_bot(tmp_path, HTTP_PORT=str(port))
    assert result.returncode == 2
    assert one_line(result) == (
        f"Cannot start: HTTP_PORT: 127.0.0.1:{port} is in use by another program; "
        "stop it or choose another port"
    )


def test_a_missing_sqlite_folder_is_one_line(tmp_path):
    result = run_bot(tmp_path, DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/nowhere/shop.db")
    assert result.returncode == 2
    assert one_line(result) == (
        f"Cannot start: DATABASE_URL: the folder {tmp_path}/nowhere of the SQLite database "
        "does not exist; create it or name another path"
    )


def test_an_unwritable_sqlite_folder_is_one_line(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o555)
    if os.access(folder, os.W_OK):  # root writes anywhere: /proc takes no files even then
        folder = Path("/proc")
    result = run_bot(tmp_path, DATABASE_URL=f"sqlite+aiosqlite:///{folder}/shop.db")
    assert result.returncode == 2
    assert one_line(result).startswith(
        f"Cannot start: DATABASE_URL: the folder {folder} of the SQLite database is not writable"
    )


def test_an_unreachable_postgresql_is_waited_for_then_one_line(tmp_path):
    port = free_port()  # nothing listens there
    started = time.monotonic()
    result = run_bot(
        tmp_path,
        DATABASE_URL=f"postgresql+asyncpg://shop@127.0.0.1:{port}/shop",
        CONNECT_WAIT_SECONDS="2",
        LOG_LEVEL="ERROR",  # the "not reachable yet" warnings of the wait are not shown
    )
    assert time.monotonic() - started >= 2
    assert result.returncode == 2
    assert one_line(result).startswith(
        f"Cannot start: DATABASE_URL: PostgreSQL 127.0.0.1:{port}/shop does not answer "
        "(ConnectionRefusedError"
    )
    assert one_line(result).endswith("(for 2 s; CONNECT_WAIT_SECONDS)")


@pytest.mark.skipif(not PG_URL, reason="needs TEST_DATABASE_URL")
def test_a_missing_postgresql_database_is_one_line_at_once(tmp_path):
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL).set(database="no_such_shop_db")
    result = run_bot(tmp_path, DATABASE_URL=url.render_as_string(hide_password=False))
    assert result.returncode == 2
    assert "Cannot start: DATABASE_URL: the database 'no_such_shop_db' does not exist" in (
        one_line(result)
    )


def test_debug_adds_the_traceback(tmp_path):
    result = run_bot(tmp_path, LOG_LEVEL="DEBUG", TELEGRAM_BOT_TOKEN="not-a-token")
    assert result.returncode == 2
    assert "Traceback" in result.stderr
    assert result.stderr.strip().endswith(
        "Cannot start: TELEGRAM_BOT_TOKEN: not a bot token "
        "(it looks like 123456789:AAE…, from @BotFather)"
    )


# what start-up rides out


def test_telegram_faults_at_boot_are_retried(tmp_path, emulators):
    emulators.call(emulators.telegram.fail_next, "getMe", 502, html=True, times=2)
    emulators.call(emulators.telegram.drop_next, "setMyCommands")
    env = bot_env(tmp_path, **emulators.settings(VK_GROUP_TOKEN="", YOOKASSA_SHOP_ID=""))
    with serving_bot(tmp_path, env) as bot:
        pass
    assert '"telegram": {"status": "ok"' in bot.body
    assert bot.process.returncode == 0
    assert "Telegram not reachable yet" in bot.output
    assert "Traceback" not in bot.output


@dataclass
class Served:
    """A `python -m bot` that answered /healthz: its process, that first answer, and once it
    stopped on SIGTERM, everything it printed."""

    process: subprocess.Popen[str]
    url: str
    body: str = ""
    output: str = ""


@contextlib.contextmanager
def serving_bot(cwd: Path, env: dict[str, str]) -> Iterator[Served]:
    """Start the bot, wait for a healthy /healthz, and stop it with SIGTERM afterwards."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    served = Served(process, f"http://127.0.0.1:{env['HTTP_PORT']}/healthz")
    try:
        served.body = wait_healthy(served.url, process)
        yield served
        process.send_signal(signal.SIGTERM)
        served.output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()


def wait_healthy(url: str, process: subprocess.Popen[str]) -> str:
    """The body of the first 200 from /healthz."""
    deadline = time.monotonic() + 60
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"bot exited early: {process.communicate()[0]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return response.read().decode()
        except urllib.error.HTTPError as error:
            last = f"{error.code} {error.read().decode()}"
        except OSError as error:
            last = repr(error)
        time.sleep(0.1)
    process.kill()
    pytest.fail(f"no healthy /healthz in 60 s ({last}): {process.communicate()[0][-3000:]}")


# python -m bot check and --help


def test_check_reaches_every_service(tmp_path, emulators):
    result = run_bot(tmp_path, "check", **emulators.settings(MODERATOR_CHAT="-100123"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"database: ok (SQLite {tmp_path}/shop.db)"
    assert lines[1] == "telegram: ok (@demo_shop_bot)"
    assert lines[2].startswith(f"vk: ok (club{emulators.group.id} ")
    assert lines[3] == f"yookassa: ok (shop {emulators.shop_id})"


def test_check_names_what_fails_and_exits_2(tmp_path, emulators):
    wrong = emulators.token.split(":")[0] + ":" + "y" * 35
    result = run_bot(tmp_path, "check", **emulators.settings(TELEGRAM_BOT_TOKEN=wrong))
    assert result.returncode == 2
    assert "telegram: FAILED: TELEGRAM_BOT_TOKEN: Telegram refused the token" in result.stdout
    assert "yookassa: ok" in result.stdout
    assert "y" * 35 not in result.stdout + result.stderr


def test_help_explains_the_commands_and_settings(tmp_path):
    result = run_bot(tmp_path, "--help")
    assert result.returncode == 0
    for words in ("check", "LOG_LEVEL", "LOG_FORMAT", "CONNECT_WAIT_SECONDS", "MODERATOR_CHAT"):
        assert words in result.stdout


def test_a_failure_late_in_start_up_is_one_line_and_exit_1(tmp_path, emulators):
    """Past the checks (here Telegram refuses the command menu): exit 1, and the jobs start-up
    had made but never ran go quietly."""
    emulators.call(emulators.telegram.fail_next, "setMyCommands", 400)
    settings = emulators.settings(VK_GROUP_TOKEN="", YOOKASSA_SHOP_ID="", LOG_LEVEL="WARNING")
    result = run_bot(tmp_path, **settings)
    assert result.returncode == 1
    assert one_line(result).startswith("Cannot start: start-up failed: TelegramBadRequest")


def test_telegram_unreachable_for_the_whole_wait_is_exit_1(tmp_path):
    port = free_port()  # nothing listens there
    result = run_bot(
        tmp_path,
        TELEGRAM_BOT_TOKEN="123456:" + "A" * 35,
        TELEGRAM_API_SERVER=f"http://127.0.0.1:{port}",
        CONNECT_WAIT_SECONDS="1",
        LOG_LEVEL="ERROR",
    )
    assert result.returncode == 1
    line = one_line(result)
    assert line.startswith(
        f"Cannot start: TELEGRAM_API_SERVER: http://127.0.0.1:{port} does not answer "
        "(TelegramNetworkError"
    )
    assert line.endswith("(for 1 s; CONNECT_WAIT_SECONDS)")
    assert "A" * 35 not in result.stderr
