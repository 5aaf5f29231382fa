"""Compare runs with many runs: a generated runs folder of 200 runs (two grid sweeps and manual runs).

Measured: the many-runs table and its analyses (runs_table_frame, best per sweep, effects, group-by,
parallel coordinates and both charts as Vega-Lite), and the Compare runs page itself in AppTest
(fresh cache, imports warmed on another folder). Baseline in the same run: `list_runs`, the
runs list every page already reads. Goal: the page renders in under 2 s with 200 runs.

    python bench/bench_sweep.py [--runs 200] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.charts.sweep import effect_chart, parallel_coordinates
from explorer.runs import list_runs
from explorer.runs_table import effects, group_stats, mark_best, parallel_frame, runs_table_frame, varying
from tests.sweep_fixtures import make_sweep_runs

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "compare_runs.py")


def best_of(fn: Callable[[], object], repeats: int) -> float:
    """Median seconds of `repeats` calls."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def analyses(root: str) -> None:
    """Everything the many-runs panel computes, charts included."""
    df = runs_table_frame(root)
    mark_best(df)
    moving = varying(df[df["test_acc"].notna()])
    eff = effects(df, "test_acc", moving)
    group_stats(df, moving[:2])
    lines, ticks = parallel_frame(df, moving)
    parallel_coordinates(lines, ticks).to_dict()
    effect_chart(eff).to_dict()


def page_seconds(root: str, warm_root: str) -> tuple[float, int]:
    """Seconds of one Compare-runs page run on `root` (imports warmed on `warm_root`), and its table rows."""
    from streamlit.testing.v1 import AppTest

    os.environ["EXPLORER_RUNS"] = warm_root
    AppTest.from_file(PAGE, default_timeout=300).run()
    os.environ["EXPLORER_RUNS"] = root
    at = AppTest.from_file(PAGE, default_timeout=300)
    t0 = time.perf_counter()
    at.run()
    took = time.perf_counter() - t0
    if at.exception:
        raise SystemExit(f"the page raised: {at.exception[0].value}")
    table = next(d.value for d in at.dataframe if "best" in d.value.columns)
    return took, len(table)


def main() -> None:
    """Generate the folder, time baseline and analyses, then the page."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root, warm = os.path.join(tmp, "runs"), os.path.join(tmp, "warm")
        t0 = time.perf_counter()
        make_sweep_runs(root, args.runs)
        make_sweep_runs(warm, 40)
        n = len(list_runs(root))
        print(f"generated {n} runs in {time.perf_counter() - t0:.1f} s; load average {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} CPUs")
        base = best_of(lambda: list_runs(root), args.repeats)
        ours = best_of(lambda: analyses(root), args.repeats)
        print(f"list_runs (baseline):             {base * 1000:8.0f} ms")
        print(f"runs table + analyses + charts:   {ours * 1000:8.0f} ms  ({ours / base:.2f}x the baseline)")
        page, rows = page_seconds(root, warm)
        print(f"Compare runs page (AppTest, cold cache, {rows} rows): {page:.2f} s  "
              f"({page / base:.1f}x the baseline; goal < 2 s: {'met' if page < 2 else 'NOT met'})")


if __name__ == "__main__":
    main()
