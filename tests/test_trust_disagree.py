"""Per-image disagreement of two runs: the counts identity, the CSV, and the refusals (bad input)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from explorer.cli import main
from explorer.runs import Run
from explorer.trust.disagree import A_ONLY, B_ONLY, disagreement
from tests.run_fixtures import make_run


def test_counts_add_up_to_the_accuracy_difference() -> None:
    a, b = make_run(name="dis-a", seed=0), make_run(name="dis-b", seed=1)
    d = disagreement(a, b)
    n = d.n
    only_a, only_b = len(d.rows(A_ONLY)), len(d.rows(B_ONLY))
    acc_a, acc_b = a.metrics()["test_acc"], b.metrics()["test_acc"]
    assert n == 104 and only_a + only_b > 0
    assert only_a - only_b == round((acc_a - acc_b) * n)
    counts = d.counts()
    assert counts.loc[counts["kind"] == A_ONLY, "count"].sum() == only_a
    assert counts.loc[counts["kind"] == B_ONLY, "count"].sum() == only_b
    letter = d.rows(A_ONLY)["true"].iloc[0]
    assert set(d.rows(A_ONLY, letter)["true"]) == {letter}


def test_cli_writes_one_row_per_test_image(tmp_path, capsys) -> None:
    a, b = make_run(name="cli-a", seed=0), make_run(name="cli-b", seed=2)
    out = tmp_path / "images.csv"
    assert main(["disagree", str(a.path), str(b.path), "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert list(df.columns) == ["index", "true", "pred_a", "prob_a", "pred_b", "prob_b"]
    assert len(df) == 104 and df["index"].tolist() == list(range(104))
    pa = a.predictions()
    assert np.allclose(df["prob_a"], pa.y_prob.max(1), atol=1e-4)
    assert "paired test images" in capsys.readouterr().out


def test_different_class_sets_are_refused(capsys) -> None:
    a = make_run(name="cls-a")
    b = make_run(name="cls-b", classes=list("ABCDEFGHIJ"))
    with pytest.raises(ValueError, match="different class sets"):
        disagreement(a, b)
    assert main(["disagree", str(a.path), str(b.path)]) == 2
    err = capsys.readouterr().err
    assert "different class sets" in err and "Traceback" not in err


def test_run_without_predictions_or_still_training_is_refused() -> None:
    a, b = make_run(name="np-a"), make_run(name="np-b", seed=1)
    b.predictions_path.unlink()
    with pytest.raises(ValueError, match="no saved test predictions"):
        disagreement(a, b)
    c = make_run(name="np-c", seed=3)
    c.write_status(status="running", pid=__import__("os").getpid())
    with pytest.raises(ValueError, match="still training"):
        disagreement(a, c)
    assert a.has_predictions()  # nothing lost


def test_different_test_splits_are_not_paired(tmp_path) -> None:
    a, b = make_run(name="split-a"), make_run(name="split-b", seed=1)
    cfg = b.config
    cfg["train"]["data"]["size"] = 40
    b.update_config(train=cfg["train"])
    with pytest.raises(ValueError, match="different test splits"):
        disagreement(a, Run(b.path))
