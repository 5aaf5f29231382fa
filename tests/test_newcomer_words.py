"""What a newcomer reads (issue 23, item 9): one year in a heading, words a user knows instead of "seed table",
"—" for a figure the report does not give, plurals, epochs counted from 1, no GPU line on a CPU run, label issues
named by model titles and flagged by rank, and LeNet-5's reference count with its own 10 classes."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from explorer.charts.evaluate import seed_table_style
from explorer.config import TrainConfig
from explorer.inspect.lineage import architecture_row
from explorer.metrics import seed_result_table
from explorer.models import get_card, list_models
from explorer.names import plural
from explorer.progress import epoch_text
from explorer.runs import create_run
from explorer.train.recipes import DESCRIPTIONS, TITLES
from tests.conftest import page_path
from tests.mixed_runs import make_mixed_runs

SEED_WORDS = re.compile(r"seed (report|table|keras|document)|seeds'|seed's|the seeds\b", re.IGNORECASE)


def _texts(at: AppTest) -> list[str]:
    """Every text a user reads on the page: markdown, captions, alerts, labels, options, tab names."""
    out = [e.value for kind in ("markdown", "caption", "info", "warning", "success", "error", "subheader", "title")
           for e in at.get(kind)]
    out += [t.label for t in at.tabs] + [e.label for e in at.get("expander")]
    for kind in ("selectbox", "radio", "multiselect", "button", "checkbox", "number_input", "text_input"):
        for w in at.get(kind):
            out.append(str(w.label))
            out += [str(o) for o in getattr(w, "options", [])]
    return out


def test_headings_say_the_year_once():
    assert get_card("lenet5").heading == "LeNet-5 (1998)" and get_card("resnet18").heading == "ResNet-18 (2015)"
    assert all(get_card(n).heading.count(str(get_card(n).year)) == 1 for n in list_models())


def test_inspect_lenet5_heading_and_reference_count_with_its_10_classes():
    at = AppTest.from_file(page_path("inspect"), default_timeout=300).run()
    at.selectbox(key="model").set_value("lenet5").run()
    assert not at.exception, at.exception
    texts = _texts(at)
    assert "### LeNet-5 (1998)" in texts and not any("(1998) (1998)" in t for t in texts)
    assert at.radio(key="input_preset").value == "Reference: 1×32×32, 10 classes"
    params = next(m for m in at.metric if m.label == "Parameters")
    assert params.value == "60,850"  # the paper's count (145,000 with a 1,000-class head)
    assert any("its 10 classes (handwritten digits)" in t for t in texts)  # says why the reference has 10 outputs
    row = architecture_row("lenet5")
    assert (row["classes"], row["params"]) == (10, 60_850)
    assert architecture_row("resnet18")["classes"] == 1000


def test_no_seed_words_and_the_report_table_says_dash_not_none(tmp_path, monkeypatch):
    assert not any(SEED_WORDS.search(t) for t in [*DESCRIPTIONS.values(), *TITLES.values()])
    assert not any(SEED_WORDS.search(get_card(n).title + get_card(n).notes + get_card(n).letters.describe())
                   for n in list_models())
    html = seed_table_style(seed_result_table()).to_html()
    assert "—" in html and "nan" not in html.lower() and "None" not in html
    root = tmp_path / "runs"
    runs = make_mixed_runs(root)
    monkeypatch.setenv("EXPLORER_RUNS", str(root))
    at = AppTest.from_file(page_path("results"), default_timeout=300).run()
    assert not at.exception, at.exception
    assert "Published results" in [t.label for t in at.tabs]
    bad = [t for t in _texts(at) if SEED_WORDS.search(t)]
    assert not bad, bad
    assert any("EMNIST-letters report" in c.value and "— = the report gives no figure" in c.value for c in at.caption)
    table = next(d for d in at.dataframe if "source" in d.value.columns)
    assert table.proto.placeholder == "—"
    at = AppTest.from_file(page_path("train"), default_timeout=300).run()
    at.selectbox(key="recipe").set_value("resnet18_scratch").run()
    assert not [t for t in _texts(at) if SEED_WORDS.search(t)]
    assert any(e.label.startswith("What the EMNIST-letters report got") for e in at.get("expander"))
    assert runs  # (the mixed folder gives the Results page a run to open)


def test_plurals_and_epochs_counted_from_one():
    assert (plural(1, "run"), plural(2, "run"), plural(1000, "run")) == ("1 run", "2 runs", "1,000 runs")
    assert epoch_text({"status": "running", "epoch": 0, "epochs": 3}) == "epoch 1 of 3 (starting)"
    assert epoch_text({"status": "running", "epoch": 2, "step": 4, "steps": 10, "epochs": 3}) == "epoch 2 of 3"
    assert epoch_text({"status": "running", "epoch": 2, "step": 10, "steps": 10, "epochs": 3}) == "epoch 2 of 3 done"
    assert epoch_text({"status": "completed", "epoch": 3, "epochs": 3}) == "epoch 3 of 3 done"
    assert epoch_text({"status": "failed", "epoch": 0, "epochs": 3}) == "no epoch done of 3"


def test_one_point_sweep_says_1_run(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_RUNS", str(tmp_path / "runs"))
    at = AppTest.from_file(page_path("train"), default_timeout=300).run()
    at.multiselect(key="sweep_fields").set_value(["lr"]).run()
    at.text_input(key="sweep_val_lr").set_value("0.01").run()
    assert any(m.value.startswith("**1 run**") for m in at.markdown), [m.value for m in at.markdown if "run" in m.value]


def _panel(run_path: str) -> None:
    from explorer.runs import open_run
    from explorer.ui.train import render_run

    render_run(open_run(run_path))


@pytest.mark.parametrize("device,mem,shown", [("cpu", None, None), ("cuda:0", 812.0, "812 MiB")])
def test_gpu_memory_only_on_a_gpu(tmp_path, device, mem, shown):
    run = create_run(TrainConfig.from_dict({"model": "small_cnn", "epochs": 3}), tmp_path)
    status = {"status": "running", "phase": "train", "epoch": 0, "epochs": 3, "device": device, "pid": None}
    (run.path / "status.json").write_text(json.dumps({**status, **({"gpu_mem_mb": mem} if mem else {})}))
    at = AppTest.from_function(_panel, args=(str(run.path),), default_timeout=60).run()
    assert not at.exception, at.exception
    gpu = [m.value for m in at.metric if m.label == "GPU memory"]
    assert gpu == ([shown] if shown else [])  # was "n/a (CPU)" on every CPU run
    assert not any(p.proto.text.startswith("epoch 0 of") for p in at.get("progress"))


def test_label_issues_name_models_by_their_titles(monkeypatch, tmp_path):
    monkeypatch.setenv("EXPLORER_RUNS", str(tmp_path / "runs"))
    at = AppTest.from_file(page_path("data"), default_timeout=300)
    at.session_state["data_size"] = 10  # small built-in set: 260 training images
    at.run()
    assert not at.exception, at.exception
    box = at.selectbox(key="li_model")
    assert list(box.options) == ["LeNet (Keras variant)", "Quick CNN", "LeNet-5 (1998)"] and box.value == "lenet_keras"
