"""Run a bot under cProfile that records only while the benchmark measures.

    python -m bench.profiled MODULE OUT

Runs ``python -m MODULE``; SIGUSR1 starts the profiler, SIGUSR2 stops it and writes the
statistics to OUT (read them with ``python -m pstats OUT``). Start-up and imports stay out.
"""

from __future__ import annotations

import cProfile
import runpy
import signal
import sys


def main() -> None:
    module, out = sys.argv[1], sys.argv[2]
    profiler = cProfile.Profile()
    signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())

    def stop(*_: object) -> None:
        profiler.disable()
        profiler.dump_stats(out)

    signal.signal(signal.SIGUSR2, stop)
    sys.argv = [module]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
