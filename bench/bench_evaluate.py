"""All metrics of a 20,800-image, 26-class test set (synthetic predictions): time of evaluate_all.

Baseline in the same run: the sklearn calls one would write by hand for the same numbers
(classification_report, confusion_matrix, roc_auc_score, per-class roc_curve/PR curves).

    python bench/bench_evaluate.py [--n 20800] [--classes 26] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.evaluate import evaluate_all


def synthetic(n: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return labels and softmax probabilities of a ~90%-accurate fake model."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 3.5
    p = np.exp(logits - logits.max(1, keepdims=True))
    return y, (p / p.sum(1, keepdims=True)).astype(np.float32)


def by_hand(y: np.ndarray, p: np.ndarray) -> None:
    """The plain sklearn calls for the same metrics."""
    from sklearn.metrics import (
        average_precision_score,
        classification_report,
        confusion_matrix,
        precision_recall_curve,
        roc_auc_score,
        roc_curve,
        top_k_accuracy_score,
    )

    k = p.shape[1]
    pred = p.argmax(1)
    classification_report(y, pred, output_dict=True, zero_division=0)
    confusion_matrix(y, pred)
    for kk in (1, 3, 5):
        top_k_accuracy_score(y, p, k=kk)
    onehot = np.eye(k)[y]
    p64 = p.astype(np.float64)
    roc_auc_score(y, p64 / p64.sum(1, keepdims=True), multi_class="ovr")
    roc_auc_score(onehot, p, average="micro")
    for c in range(k):
        roc_curve(onehot[:, c], p[:, c])
        precision_recall_curve(onehot[:, c], p[:, c])
    roc_curve(onehot.ravel(), p.ravel())
    precision_recall_curve(onehot.ravel(), p.ravel())
    average_precision_score(onehot, p, average=None)


def main() -> None:
    """Time evaluate_all and the by-hand baseline; print medians and the ratio."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20800)
    ap.add_argument("--classes", type=int, default=26)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    y, p = synthetic(args.n, args.classes)
    evaluate_all(y, p, args.classes)  # warm-up (imports)
    ours, base = [], []
    for _ in range(args.repeats):
        t = time.perf_counter()
        ev = evaluate_all(y, p, args.classes)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        by_hand(y, p)
        base.append(time.perf_counter() - t)
    a, b = statistics.median(ours), statistics.median(base)
    print(f"{args.n} x {args.classes} predictions, accuracy {ev.report.accuracy:.4f}, "
          f"micro AUC {ev.roc.area['micro']:.4f}, ECE {ev.calibration.ece:.4f}")
    print(f"explorer.evaluate_all (report, confusion, pairs, ROC, PR, calibration)  median {a:.3f} s")
    print(f"plain sklearn calls for the same numbers                                 median {b:.3f} s")
    print(f"ratio {a / b:.2f}   target: < 2 s -> {'OK' if a < 2 else 'MISSED'}")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
