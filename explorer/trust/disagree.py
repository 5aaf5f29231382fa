"""Where two runs disagree: the test images one run gets right and the other wrong, image by image.

Images are paired only when both runs were tested on the same test split (same dataset, same load
options, same test indices) with the same classes; otherwise a ValueError says why. The counts obey
(A right, B wrong) - (B right, A wrong) = (acc_A - acc_B) x N on the shared split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from explorer.runs import Run

A_ONLY, B_ONLY = "A right, B wrong", "B right, A wrong"
COLUMNS = ["index", "true", "pred_a", "prob_a", "pred_b", "prob_b"]


@dataclass(frozen=True)
class Disagreement:
    """Per-image predictions of two runs on the same test split."""

    table: pd.DataFrame  # one row per test image: index, true, pred_a, prob_a, pred_b, prob_b, a_right, b_right
    run_a: str
    run_b: str
    classes: list[str]

    @property
    def n(self) -> int:
        """Number of paired test images."""
        return len(self.table)

    def accuracy(self, which: str) -> float:
        """Test accuracy of run "a" or "b" on the paired images."""
        return float(self.table[f"{which}_right"].mean()) if self.n else float("nan")

    def rows(self, kind: str, letter: str | None = None) -> pd.DataFrame:
        """The images of one kind (A_ONLY, B_ONLY), optionally of one true letter."""
        t = self.table
        mask = (t["a_right"] & ~t["b_right"]) if kind == A_ONLY else (t["b_right"] & ~t["a_right"])
        if letter is not None:
            mask &= t["true"] == letter
        return t.loc[mask, COLUMNS]

    def counts(self) -> pd.DataFrame:
        """Per true letter: how many images only A gets right and only B gets right (long table for charts)."""
        rows = []
        for kind in (A_ONLY, B_ONLY):
            per = self.rows(kind)["true"].value_counts()
            rows += [{"letter": c, "kind": kind, "count": int(per.get(c, 0))} for c in self.classes]
        return pd.DataFrame(rows, columns=["letter", "kind", "count"])


def _test_identity(run: Run) -> tuple[str, dict]:
    """What defines a run's test split: dataset name and its load options (root excluded)."""
    spec = run.record.train.data
    return spec.name, spec.load_options()


def check_pairable(a: Run, b: Run) -> None:
    """ValueError (with the reason) unless both runs finished with predictions on the same classes and test split."""
    for run in (a, b):
        if run.status.get("status") == "running":
            raise ValueError(f"run {run.run_id} is still training; compare it once it has finished")
        if not run.has_predictions():
            raise ValueError(f"run {run.run_id} has no saved test predictions (it did not finish testing); "
                             "evaluate it first (Compare runs offers Evaluate now; or "
                             f"python -m explorer evaluate {run.run_id} --predict)")
    if a.classes != b.classes:
        raise ValueError(f"the runs have different class sets ({len(a.classes)} vs {len(b.classes)} classes: "
                         f"{''.join(a.classes)[:40]} / {''.join(b.classes)[:40]}); images cannot be paired")
    ida, idb = _test_identity(a), _test_identity(b)
    if ida != idb:
        raise ValueError(f"the runs were evaluated on different test splits ({ida[0]} {ida[1]} vs {idb[0]} {idb[1]}); "
                         "their images are not paired")


def disagreement(a: Run, b: Run) -> Disagreement:
    """Pair two runs' test predictions image by image (ValueError when they cannot be paired)."""
    check_pairable(a, b)
    pa, pb = a.predictions(), b.predictions()
    assert pa is not None and pb is not None
    if not np.array_equal(pa.indices, pb.indices) or not np.array_equal(pa.y_true, pb.y_true):
        raise ValueError(f"runs {a.run_id} and {b.run_id} saved predictions for different test images "
                         f"({len(pa.indices)} vs {len(pb.indices)}); their images are not paired")
    k = len(a.classes)
    for run, p in ((a, pa), (b, pb)):
        if p.y_prob.ndim != 2 or p.y_prob.shape[1] != k or len(p.y_prob) != len(p.y_true):
            raise ValueError(f"run {run.run_id}'s predictions.npz has probabilities of shape {p.y_prob.shape}, "
                             f"expected ({len(p.y_true)}, {k})")
    classes = np.asarray(a.classes)
    pred_a, pred_b = pa.y_prob.argmax(1), pb.y_prob.argmax(1)
    rows = np.arange(len(pred_a))
    table = pd.DataFrame({
        "index": pa.indices, "true": classes[pa.y_true], "pred_a": classes[pred_a],
        "prob_a": pa.y_prob[rows, pred_a].round(4), "pred_b": classes[pred_b], "prob_b": pb.y_prob[rows, pred_b].round(4),
        "a_right": pred_a == pa.y_true, "b_right": pred_b == pb.y_true,
    })  # fmt: skip
    return Disagreement(table, a.run_id, b.run_id, list(a.classes))
