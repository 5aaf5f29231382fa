"""The `evaluate` and `explain` commands: report text, figure files, parser wiring."""

from __future__ import annotations

import json

import numpy as np
import pytest

from explorer.charts.save import remote_scripts
from explorer.evaluate import evaluate_all
from explorer.evaluate.cli import format_report
from explorer.evaluate.figures import write_figures, write_tables


@pytest.fixture(scope="module")
def ev():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 26, 400)
    logits = rng.normal(size=(400, 26))
    logits[np.arange(400), y] += 2.5
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return evaluate_all(y, p, [chr(65 + i) for i in range(26)])


def test_format_report(ev):
    text = format_report(ev, title="run x")
    r = ev.report
    assert text.startswith("run x")
    assert f"accuracy           {r.accuracy:.4f}" in text
    assert f"macro {r.f1_macro:.4f}   weighted {r.f1_weighted:.4f}" in text
    assert "per-class report" in text and "support" in text
    assert "most confused pairs" in text and "↔" in text


def test_write_figures_and_tables(tmp_path):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 6, 200)
    ev = evaluate_all(y, rng.dirichlet(np.ones(6), 200), list("ABCDEF"))
    history = [{"epoch": 1, "train_loss": 1.0, "train_acc": 0.5, "val_loss": 1.1, "val_acc": 0.4, "lr": 0.1}]
    files = write_figures(ev, tmp_path, history) + write_tables(ev, tmp_path)
    names = {f.name for f in files}
    for stem in ("confusion", "confusion_normalized", "roc", "pr", "per_class_f1", "calibration", "training_curves"):
        assert {f"{stem}.png", f"{stem}.html"} <= names
        assert (tmp_path / f"{stem}.png").read_bytes()[:4] == b"\x89PNG"
        html = (tmp_path / f"{stem}.html").read_text()
        assert "vega" in html and remote_scripts(html) == []  # offline: Vega inlined, no CDN script
    report = json.loads((tmp_path / "report.json").read_text())  # strict JSON (NaN -> null)
    assert report["accuracy"] == pytest.approx(ev.report.accuracy)
    assert report["roc_auc"]["micro"] == pytest.approx(ev.roc.area["micro"])
    assert (tmp_path / "per_class.csv").read_text().startswith("class,precision,recall,f1,support")


def test_parsers_registered():
    import argparse

    from explorer.evaluate.cli import add_parsers as add_evaluate
    from explorer.explain.cli import add_parsers as add_explain

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    add_evaluate(sub)
    add_explain(sub)
    args = parser.parse_args(["evaluate", "run1", "--out", "d"])
    assert (args.run, args.out, args.func.__name__) == ("run1", "d", "cmd_evaluate")
    args = parser.parse_args(["explain", "run1", "a.png", "--method", "occlusion", "--out", "o.png"])
    assert (args.image, args.method, args.func.__name__) == ("a.png", "occlusion", "cmd_explain")
    with pytest.raises(SystemExit):
        parser.parse_args(["explain", "run1", "a.png", "--method", "lime", "--out", "o.png"])
