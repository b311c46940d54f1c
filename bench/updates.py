"""Updates handled per second through real HTTP and real aiogram, against a bare echo bot.

    python -m bench.updates [--shoppers 20] [--rounds 3] [--only sqlite|postgresql]

The bot runs as it does in production, as its own process (``python -m bot``), while this
process plays Telegram (the emulator) and N shoppers going through the whole journey at once
(search, product, cart, checkout, order); every action is one update. In the same run a bare
aiogram echo bot (bench/echo_bot.py, also its own process) answers as many updates on the
same emulator. Printed: updates/s, p50/p99 latency per update (from the person's action until
the bot's reaction settled, less the emulator's quiet period) and the ratio shop/echo
(target >= 0.5). Each bot first serves one round of the same size that is not counted ("cold":
connections opened, statements prepared, caches filled, as in a shop that has been running),
then ``--rounds`` measured ones; the shop's figure is all its measured rounds together, the
echo's is its best round.

Every shopper waits for the bot's reaction (and the quiet period) before acting again, so the
N shoppers' updates arrive together and the bot serves them one after another: a round lasts
about N x (bot CPU per update) + the quiet period. The bot's CPU per update is the figure to
watch; BENCH_PROFILE=prefix writes each bot's cProfile of the measured rounds to prefix.MODULE.
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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, update

from bench.common import fresh_database
from shop.db import create_engine, create_session_factory
from shop.models import InboxEvent, InboxStatus, Order, OrderLine, Variant
from tests.emulators.telegram import Person, TelegramEmulator

QUIET = 0.05
STEPS = 15  # updates in one journey
PROFILE = os.environ.get("BENCH_PROFILE")  # a path prefix: each bot's cProfile goes there


class Timer:
    def __init__(self) -> None:
        self.latencies: list[float] = []

    async def __call__(self, action: Awaitable[object]) -> None:
        started = time.perf_counter()
        await action
        self.latencies.append(time.perf_counter() - started - QUIET)


async def journey(person: Person, n: int, timed: Timer) -> int:
    """The shopper's path; returns how many updates it took."""
    steps: list[Callable[[], Awaitable[object]]] = [
        lambda: person.send("/start"),
        lambda: person.press("Каталог"),
        lambda: person.press("Аксессуары"),
        lambda: person.press("Шопер"),
        lambda: person.press("+"),
        lambda: person.press("В корзину"),
        lambda: person.press("Перейти в корзину"),
        lambda: person.press("Оформить заказ"),
        lambda: person.send(f"Покупатель {n}"),
        lambda: person.send(f"+7900{n:07d}"),
        lambda: person.press("Самовывоз"),
        lambda: person.press("Без комментария"),
        lambda: person.press("Без чека на почту"),
        lambda: person.press("Подтвердить заказ"),
        lambda: person.send("кружка"),
    ]
    assert len(steps) == STEPS
    for step in steps:
        await timed(step())
    return len(steps)


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    """One measured run: how many updates, how long, and what the bot process spent."""

    name: str
    updates: int
    elapsed: float
    bot_cpu: float
    latencies: list[float]
    emulator_cpu: float = 0.0  # this process: the emulator and the shoppers driving it

    @property
    def rate(self) -> float:
        return self.updates / self.elapsed

    @property
    def cpu_per_update(self) -> float:
        return self.bot_cpu / self.updates

    def report(self) -> None:
        ordered = sorted(self.latencies)
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
        print(
            f"{self.name:24} {self.updates:5} updates in {self.elapsed:6.2f} s: "
            f"{self.rate:6.1f} updates/s, p50 {p50:6.1f} ms, p99 {p99:6.1f} ms, "
            f"bot CPU {self.cpu_per_update * 1000:5.2f} ms/update, "
            f"emulator+shoppers CPU {self.emulator_cpu / self.updates * 1000:5.2f} ms/update"
        )


async def timed_round(name: str, pid: int, work: Callable[[Timer], Awaitable[int]]) -> Run:
    timer = Timer()
    started, cpu, own = time.perf_counter(), process_cpu(pid), time.process_time()
    updates = await work(timer)
    elapsed, cpu = time.perf_counter() - started, process_cpu(pid) - cpu
    own = time.process_time() - own
    return Run(name, updates, elapsed, cpu, timer.latencies, own)


async def measure(
    name: str, pid: int, work: Callable[[Timer], Awaitable[int]], rounds: int
) -> list[Run]:
    """A cold round (reported, not counted), then ``rounds`` measured ones, each reported."""
    (await timed_round(f"{name}, cold", pid, work)).report()
    if PROFILE:
        os.kill(pid, signal.SIGUSR1)
    runs = [await timed_round(f"{name} #{n}", pid, work) for n in range(1, rounds + 1)]
    if PROFILE:
        os.kill(pid, signal.SIGUSR2)
    for run in runs:
        run.report()
    return runs


def combined(name: str, runs: list[Run]) -> Run:
    return Run(
        name,
        sum(run.updates for run in runs),
        sum(run.elapsed for run in runs),
        sum(run.bot_cpu for run in runs),
        [latency for run in runs for latency in run.latencies],
        sum(run.emulator_cpu for run in runs),
    )


@contextlib.asynccontextmanager
async def bot_process(module: str, emu: TelegramEmulator, token: str, **env: str):
    """Run ``python -m module`` as the bot, until it polls; stop it afterwards."""
    environment = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_SERVER": emu.api_server_url,
        "HTTP_PORT": "0",
        **env,
    }
    command = ["-m", module]
    if PROFILE:  # profiled while measured only, see measure()
        command = ["-m", "bench.profiled", module, f"{PROFILE}.{module}"]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *command,
        env=environment,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await emu.wait_polling(token, within=60)
        yield process.pid
    finally:
        process.terminate()
        _, errors = await process.communicate()
        if process.returncode not in (0, -signal.SIGTERM):
            print(errors.decode()[-2000:], file=sys.stderr)


async def run_shop(emu: TelegramEmulator, kind: str, shoppers: int, rounds: int) -> Run:
    token = emu.create_bot(username=f"bench_{kind}_bot")
    database = fresh_database(kind)
    # Neither bot paces its sends here (the echo bot never does): this measures the bot's own
    # handling; with TELEGRAM_SEND_RATE's default the shop would send at most 25 messages/s.
    unpaced = {"TELEGRAM_SEND_RATE": "0"}
    async with database as url, bot_process("bot", emu, token, DATABASE_URL=url, **unpaced) as pid:
        engine = create_engine(url)
        async with create_session_factory(engine)() as session, session.begin():
            await session.execute(update(Variant).values(stock=100_000))
        await engine.dispose()

        journeys = 0

        async def shop(timer: Timer) -> int:
            nonlocal journeys
            people = [emu.user(token, first_name=f"Покупатель{n}") for n in range(shoppers)]
            counts = await asyncio.gather(*(journey(p, n, timer) for n, p in enumerate(people)))
            journeys += shoppers
            return sum(counts)

        runs = await measure(f"shop ({kind})", pid, shop, rounds)
        await report_exactly_once(url, journeys)
        return combined(f"shop ({kind}), all", runs)


async def report_exactly_once(url: str, journeys: int) -> None:
    """Events lost (sent but not handled) and applied twice (a second order from one
    journey, or a cart line of other than the 2 units each journey puts in)."""
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            statuses = dict(
                (
                    await session.execute(
                        select(InboxEvent.status, func.count()).group_by(InboxEvent.status)
                    )
                ).all()
            )
            orders = await session.scalar(select(func.count()).select_from(Order))
            odd_lines = await session.scalar(
                select(func.count()).select_from(OrderLine).where(OrderLine.quantity != 2)
            )
    finally:
        await engine.dispose()
    sent = journeys * STEPS
    lost = sent - statuses.get(InboxStatus.DONE, 0)
    twice = max(0, (orders or 0) - journeys) + (odd_lines or 0)
    print(
        f"{'':24} events sent {sent}, handled {statuses.get(InboxStatus.DONE, 0)}: "
        f"events lost {lost}, events applied twice {twice} "
        f"(pending {statuses.get(InboxStatus.PENDING, 0)}, "
        f"parked {statuses.get(InboxStatus.PARKED, 0)})"
    )


async def run_echo(emu: TelegramEmulator, shoppers: int, per_person: int, rounds: int) -> Run:
    """The echo bot's best measured round: the baseline is never flattered by a slow round."""
    token = emu.create_bot(username="bench_echo_bot")
    async with bot_process("bench.echo_bot", emu, token) as pid:

        async def echo(timer: Timer) -> int:
            async def chat(person: Person) -> None:
                for i in range(per_person):
                    await timer(person.send(f"привет {i}"))

            people = [emu.user(token, first_name=f"Echo{n}") for n in range(shoppers)]
            await asyncio.gather(*(chat(p) for p in people))
            return shoppers * per_person

        runs = await measure("aiogram echo bot", pid, echo, rounds)
        return max(runs, key=lambda run: run.rate)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shoppers", type=int, default=20)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per bot")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    emu = TelegramEmulator(quiet_period=QUIET, settle_timeout=120.0)
    emu.config.reactions_in_own_chat = True
    emu.config.weak_quiet_period = 1.0
    await emu.start()
    try:
        echo = await run_echo(emu, args.shoppers, STEPS, args.rounds)
        for kind in [args.only] if args.only else ["sqlite", "postgresql"]:
            shop = await run_shop(emu, kind, args.shoppers, args.rounds)
            shop.report()
            print(
                f"{'':24} shop/echo (best echo round) on {kind}: throughput "
                f"{shop.rate / echo.rate:.2f} (target >= 0.5), "
                f"CPU per update {echo.cpu_per_update / shop.cpu_per_update:.2f}"
            )
    finally:
        await emu.stop()


if __name__ == "__main__":
    asyncio.run(main())
