"""Learn: how long a click on a unit takes to answer, against one plain forward pass of the same model.

A click on the Learn page runs explorer.learn.follow on the forward the page recorded for the current input
(explorer.learn.trace, once per input and network); a click right after a new input also records it. Both are
timed on a run's model (ResNet-18 by default, the weights of a fixture run) for units of the first conv, a
residual block, the last block and the classifier, interleaved with the baseline in the same process:

    python bench/bench_learn.py [--models resnet18 densenet121] [--repeats 20]

The issue's target: a click answers within 0.3 s for ResNet-18 on CPU.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.learn import follow, trace
from explorer.run_models import load_run_model

TARGET_S = 0.3


def _ms(f) -> float:
    t = time.perf_counter()
    f()
    return (time.perf_counter() - t) * 1e3


def _units(tr) -> list[tuple[str, tuple[int, ...]]]:
    """A unit at the middle of the first, a middle and the last layer with maps, and the classifier's first."""
    spatial = [lay for lay in tr.spatial_layers() if lay.name.startswith("net.")]
    picks = [spatial[0], spatial[len(spatial) // 2], spatial[-1]]
    units = [(lay.name, (lay.shape[0] // 2, lay.shape[1] // 2, lay.shape[2] // 2)) for lay in picks]
    out = [lay for lay in tr.ordered() if lay.node == tr.output_node][-1]
    return [*units, (out.name, (0,))]


def bench(name: str, repeats: int, root: Path) -> dict[str, float]:
    """Median ms of: a plain forward, recording the forward, a click, a click after a new input."""
    from tests.run_fixtures import make_run

    run = make_run(root, model=name, name=f"bench-learn-{name}")
    model = load_run_model(run.path)
    x = torch.as_tensor(run.test_images()[0], dtype=torch.float32)[None, None] / 255.0
    tr = trace(model, x)
    units = _units(tr)
    forward, record, click, cold = [], [], [], []
    for i in range(repeats):
        layer, unit = units[i % len(units)]
        with torch.inference_mode():
            forward.append(_ms(lambda: model(x)))
        record.append(_ms(lambda: trace(model, x)))
        click.append(_ms(lambda: follow(tr, layer, unit)))  # noqa: B023 (timed at once)
        cold.append(_ms(lambda: follow(trace(model, x), layer, unit)))  # noqa: B023
    assert all(follow(tr, layer, unit).ok for layer, unit in units)
    return {k: statistics.median(v) for k, v in
            (("forward", forward), ("record", record), ("click", click), ("cold", cold))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["resnet18"])
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU, load average {load} on "
          f"{os.cpu_count()} cores; medians of {args.repeats} interleaved repeats")
    print(f"{'model':14s} {'forward':>9s} {'record':>9s} {'click':>9s} {'new input':>10s}   click/forward  "
          f"new-input click/forward   within {TARGET_S * 1e3:.0f} ms (click, new input)")
    with tempfile.TemporaryDirectory() as root:
        for name in args.models:
            r = bench(name, args.repeats, Path(root))
            met = ", ".join("yes" if r[k] <= TARGET_S * 1e3 else "NO" for k in ("click", "cold"))
            print(f"{name:14s} {r['forward']:7.1f}ms {r['record']:7.1f}ms {r['click']:7.2f}ms {r['cold']:8.1f}ms   "
                  f"{r['click'] / r['forward']:12.2f}x  {r['cold'] / r['forward']:21.2f}x   {met}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
