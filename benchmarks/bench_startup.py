"""Start-up benchmark: a whole `mailoauth plan --stack dev` process against a bare `python -c "import yaml"`.

    python benchmarks/bench_startup.py [--repeat 11]

The two commands run in turn (A B A B ...) after one warm-up each; each run's CPU time (user + sys)
comes from the operating system's accounting of the finished child (os.wait4), its wall time from
the clock. Prints the median of each and the median of the per-pair ratios A/B, which is what to
compare between runs and machines: the lazy command registry keeps the code of the other commands
out of this process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLAN = [sys.executable, "-m", "mailoauth", "plan", "--stack", "dev"]
BARE = [sys.executable, "-c", "import yaml"]


def run(command: list[str]) -> tuple[float, float]:
    """(cpu seconds, wall seconds) of one whole process."""
    env = {**os.environ, "MAILOAUTH_TODAY": "2026-11-27", "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed")
    return usage.ru_utime + usage.ru_stime, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11, help="counted pairs (default 11)")
    args = parser.parse_args()
    run(PLAN), run(BARE)  # warm-up: file caches, .pyc files
    pairs = [(run(PLAN), run(BARE)) for _ in range(args.repeat)]
    for label, pick in (("cpu", 0), ("wall", 1)):
        plan_s = statistics.median(p[pick] for p, _ in pairs)
        bare_s = statistics.median(b[pick] for _, b in pairs)
        ratio = statistics.median(p[pick] / b[pick] for p, b in pairs)
        print(f"{label:<4}  plan {plan_s * 1000:7.1f} ms  bare import yaml {bare_s * 1000:7.1f} ms  ratio {ratio:.2f}x")


if __name__ == "__main__":
    main()
