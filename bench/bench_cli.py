"""CLI start-up: wall time and peak memory of the quick commands against `python -c pass`, same run.

    python bench/bench_cli.py [--rounds 5] [--runs DIR]

Each command runs as a fresh process (`python -m explorer ...`, the interpreter of this venv), several
times interleaved with the baseline; the best wall time and the peak RSS (ru_maxrss of the child) are kept.
Bytecode is cached (in a temporary PYTHONPYCACHEPREFIX, even where PYTHONDONTWRITEBYTECODE is set) after
one warm-up round, as on a user's second start; `--no-bytecode` measures every start compiling from source.
Prints one row per command: seconds, MB, the ratio to `python -c pass`, and whether torch was imported
(`python -X importtime`). The goal (issue 27): under 0.5 s and 150 MB each, no torch.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = [
    ["--help"],
    ["runs", "list"],
    ["models"],
    ["sweep", "list"],
    ["data", "list"],
]
GOAL_S, GOAL_MB = 0.5, 150.0


def _measure(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds and peak RSS in MB of one child process, and its stderr (the -X importtime log)."""
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: exec the command with stdout to /dev/null, stderr to a file
        log = os.open(env["_BENCH_LOG"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(log, 2)
        os.execve(argv[0], argv, {k: v for k, v in env.items() if k != "_BENCH_LOG"})
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {Path(env['_BENCH_LOG']).read_text()[-500:]}")
    return wall, usage.ru_maxrss / 1024, Path(env["_BENCH_LOG"]).read_text()


def _imported_torch(importtime_log: str) -> bool:
    """Whether `python -X importtime` logged an import of the torch package."""
    return any(line.rsplit("|", 1)[-1].strip() == "torch" for line in importtime_log.splitlines())


def main() -> None:
    """Measure and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (best time, highest memory kept)")
    ap.add_argument("--runs", help="runs folder for `runs list` (default: an empty temporary one)")
    ap.add_argument("--no-bytecode", action="store_true", help="no bytecode cache: each start compiles explorer")
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "EXPLORER_RUNS": args.runs or str(Path(tmp) / "runs"),
               "_BENCH_LOG": str(Path(tmp) / "stderr.txt")}
        if args.no_bytecode:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        else:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        cases = {"python -c pass": [py, "-X", "importtime", "-c", "pass"]}
        cases |= {f"explorer {' '.join(c)}": [py, "-X", "importtime", "-m", "explorer", *c] for c in COMMANDS}
        best: dict[str, list[float]] = {k: [float("inf"), 0.0, 0.0] for k in cases}
        for argv in cases.values():  # warm-up: the bytecode cache and the OS file cache
            _measure(argv, env)
        for _ in range(args.rounds):
            for name, argv in cases.items():
                wall, mb, log = _measure(argv, env)
                row = best[name]
                row[0], row[1], row[2] = min(row[0], wall), max(row[1], mb), float(_imported_torch(log))
    base_s, base_mb = best["python -c pass"][:2]
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs; best of {args.rounds} "
          f"rounds; {'no bytecode cache' if args.no_bytecode else 'bytecode cached'} (python -X importtime, so "
          "slightly slower than plain)")
    print(f"{'command':<24} {'seconds':>8} {'x pass':>7} {'MB':>7} {'x pass':>7}  torch  goal (<{GOAL_S} s, <{GOAL_MB:.0f} MB)")
    for name, (wall, mb, torch_in) in best.items():
        goal = "" if name == "python -c pass" else ("ok" if wall < GOAL_S and mb < GOAL_MB and not torch_in else "MISSED")
        print(f"{name:<24} {wall:>8.3f} {wall / base_s:>7.1f} {mb:>7.1f} {mb / base_mb:>7.1f}  "
              f"{'yes' if torch_in else 'no':<5}  {goal}")


if __name__ == "__main__":
    main()
