"""AppTest of the Results page on run folders made without training (tests/run_fixtures.py make_page_run):
the planted G↔Q / I↔L confusion shows up with its exact numbers; missing predictions, evaluate-now,
no runs and corrupt weights give messages, never a traceback."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from explorer.runs import open_run
from tests.conftest import page_path
from tests.run_fixtures import P_RIGHT, P_WRONG
from tests.run_fixtures import make_page_run as make_run


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    """One completed run with the planted predictions."""
    root = tmp_path_factory.mktemp("results_runs")
    return root, make_run(root, "planted").name


def page(root, monkeypatch, run_id=None) -> AppTest:
    """Run the page with EXPLORER_RUNS=root (and the run chosen), checking that nothing raised."""
    monkeypatch.setenv("EXPLORER_RUNS", str(root))
    at = AppTest.from_file(page_path("results"), default_timeout=120)
    if run_id:
        at.session_state["explorer_run_id"] = run_id
    at.run()
    assert not at.exception
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def frame(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_planted_run_numbers(runs_dir, monkeypatch):
    root, run_id = runs_dir
    at = page(root, monkeypatch, run_id)
    assert at.selectbox(key="results_run").value == run_id
    n, wrong = 260, 9  # 10 test images per letter; 4 G→Q, 2 Q→G, 3 I→L
    assert metric(at, "Accuracy") == f"{(n - wrong) / n:.2%}" == "96.54%"
    assert metric(at, "Test images") == "260" and metric(at, "Top-3 accuracy") == "100.00%"
    assert metric(at, "Training time") == "2m 05s"  # the one time format (explorer.names.format_duration)
    per_class = frame(at, "support").set_index("class")
    # G: 6 of 10 right, 8 predicted as G (6 + 2 Q's) -> precision 0.75, recall 0.6, F1 2/3
    assert per_class.loc["G", ["precision", "recall", "support"]].tolist() == pytest.approx([0.75, 0.6, 10])
    assert per_class.loc["G", "f1"] == pytest.approx(2 / 3)
    assert per_class.loc["L", "precision"] == pytest.approx(10 / 13) and per_class.loc["A", "f1"] == 1.0
    pairs = frame(at, "pair")
    assert pairs["pair"].tolist()[:2] == ["G↔Q", "I↔L"] and pairs["total"].tolist()[:2] == [6, 3]
    ece = ((n - wrong) * (1 - P_RIGHT) + wrong * P_WRONG) / n  # every bin: |accuracy - confidence|
    assert metric(at, "Expected calibration error (ECE)") == f"{ece:.4f}" == "0.1173"
    md = [m.value for m in at.markdown]
    assert any("True G, predicted Q**: 4 images" in m for m in md)  # default cell: the most confused
    assert any("True Q, predicted G**: 2 images" in m for m in md)  # pair examples, the other direction
    assert any("**9 misclassified test images**" in m for m in md)
    seed = frame(at, "source")
    mine = seed[seed["source"] == "your run"]
    assert mine["accuracy"].tolist() == pytest.approx([100 * (n - wrong) / n])
    assert seed[seed["model"] == "ResNet-18"]["accuracy"].tolist() == [94.17]
    # choosing another cell of the confusion matrix shows its images
    at.selectbox(key="results_cell_true").set_value("I")
    at.selectbox(key="results_cell_pred").set_value("L").run()
    assert not at.exception
    assert any("True I, predicted L**: 3 images" in m.value for m in at.markdown)


def test_no_runs_points_to_train(monkeypatch, tmp_path):
    at = page(tmp_path / "empty", monkeypatch)
    assert "No training runs yet" in at.info[0].value and not at.error


def test_missing_predictions_evaluate_now(tmp_path, monkeypatch):
    path = make_run(tmp_path, "stopped", predictions=False, status="stopped")
    at = page(tmp_path, monkeypatch)
    assert "no saved test predictions" in at.warning[0].value and "**stopped**" in at.warning[0].value
    assert not at.metric and [s.value for s in at.subheader] == ["Training curves so far"]
    at.button(key=f"evaluate-now-{path.name}").click().run()
    assert not at.exception and not at.error
    preds = open_run(path).predictions()
    assert preds is not None and preds.y_prob.shape == (260, 26)
    acc = float((preds.y_prob.argmax(1) == preds.y_true).mean())
    assert metric(at, "Accuracy") == f"{acc:.2%}"
    assert frame(at, "support")["support"].sum() == 260


def test_corrupt_weights_named_in_error(tmp_path, monkeypatch):
    path = make_run(tmp_path, "broken", predictions=False, weights="corrupt", status="failed")
    at = page(tmp_path, monkeypatch)
    at.button(key=f"evaluate-now-{path.name}").click().run()
    assert not at.exception
    error = at.error[0].value
    assert "weights_best.safetensors" in error and "not a valid safetensors file" in error
    assert any(s.value == "Training curves so far" for s in at.subheader)  # the rest of the page still works


def test_a_run_still_training_is_not_the_default_and_says_so(tmp_path, monkeypatch):
    done = make_run(tmp_path, "finished")
    busy = make_run(tmp_path, "busy", predictions=False, status="running")  # the newest
    at = page(tmp_path, monkeypatch)
    assert at.selectbox[0].value == done.name  # the newest *completed* run is picked first
    assert metric(at, "Accuracy") == "96.54%"
    at.selectbox[0].set_value(busy.name).run()
    assert not at.exception
    assert any("still training" in i.value for i in at.info)
    assert not at.button or all("Evaluate now" not in b.label for b in at.button)
    links = [e.proto.label for e in at.get("page_link")] + [c.value for c in at.caption]
    assert any(str(t).startswith("Watch it on the Train page") for t in links), links  # the empty state links on
