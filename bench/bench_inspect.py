"""Benchmark: explorer.inspect.summarize vs torchinfo.summary on the same models, same run.

    .venv/bin/python bench/bench_inspect.py [--models resnet18,vgg16 ...] [--repeat 3]

For each registry model at its reference input size: torchinfo.summary() on a real model (real
convolutions), summarize() on the same real model (meta tensors), and summarize(name) end to end
(meta build included). Prints per-model times, the ratio torchinfo / ours, and whether the
parameter totals agree; then totals over the registry.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.inspect import summarize
from explorer.models import build_model, get_card, list_models


def best_of(fn, repeat: int) -> tuple[float, object]:
    """Best wall time of `repeat` calls and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> int:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="", help="comma-separated names (default: the whole registry)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--skip-torchinfo-over", type=float, default=30.0,
                    help="skip torchinfo for models above this many GMACs (too slow on 2 cores)")
    a = ap.parse_args()
    import torchinfo

    torch.set_grad_enabled(False)
    names = [n for n in a.models.split(",") if n] or list_models()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    print(f"{'model':22s} {'input':>11s} {'by name':>9s} {'ours':>8s} {'torchinfo':>10s} {'ratio':>7s}  params equal")
    tot_name = tot_ours = tot_ti = 0.0
    tot_ours_paired = 0.0
    for name in names:
        card = get_card(name)
        size = card.input_size
        t_name, s = best_of(lambda n=name, sz=size: summarize(n, sz, record_ops=True), a.repeat)
        tot_name += t_name
        torch.manual_seed(0)
        model = build_model(name, in_chans=size[0]).eval()
        t_ours, s2 = best_of(lambda m=model, sz=size: summarize(m, sz), a.repeat)
        tot_ours += t_ours
        line = f"{name:22s} {'x'.join(map(str, size)):>11s} {t_name * 1e3:8.0f}ms {t_ours * 1e3:6.0f}ms"
        if s.macs / 1e9 > a.skip_torchinfo_over:
            print(line + f" {'skipped':>10s}")
            continue
        t_ti, ti = best_of(lambda m=model, sz=size: torchinfo.summary(m, input_size=(1, *sz), verbose=0,
                                                                   depth=8), max(1, a.repeat - 1))
        tot_ti += t_ti
        tot_ours_paired += t_ours
        equal = ti.total_params == s2.params == s.params
        print(line + f" {t_ti * 1e3:8.0f}ms {t_ti / t_ours:6.1f}x  {equal} ({ti.total_params:,})")
    print("-" * 80)
    print(f"whole list by name (meta build + summarize): {tot_name:.2f}s for {len(names)} models")
    if tot_ours_paired:
        print(f"same real models: ours {tot_ours_paired:.2f}s vs torchinfo {tot_ti:.2f}s -> "
              f"{tot_ti / tot_ours_paired:.1f}x faster overall")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
