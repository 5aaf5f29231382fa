"""AppTest of the sweep views: Compare runs with a generated grid sweep (table, filters, best run,
effects) and the Train page's sweep form (bad value named, grid size and time, confirmation of a
10,000-run grid)."""

from __future__ import annotations

import os

from streamlit.testing.v1 import AppTest

from explorer.sweep import Grid, new_grid_sweep, parse_grid
from tests.conftest import page_path
from tests.sweep_fixtures import BASE, make_grid_sweep


def _table(at: AppTest):
    return next(d.value for d in at.dataframe if "best" in d.value.columns)


def test_compare_runs_reads_a_sweep():
    sweep = make_grid_sweep(os.environ["EXPLORER_RUNS"], {"lr": [0.01, 0.03, 0.1], "transfer": ["scratch", "finetune"]},
                            2, "grid")
    at = AppTest.from_file(page_path("compare_runs"), default_timeout=180).run()
    assert not at.exception, at.exception
    assert "All runs (12)" in [h.value for h in at.subheader]
    table = _table(at)
    assert len(table) == 12 and (table["best"] == "★").sum() == 1
    assert {"lr", "transfer"} <= set(table.columns)
    assert [t.label for t in at.tabs][-3:] == ["Parallel coordinates", "Effect of each setting", "Group by"]
    at.multiselect(key="mr_status").set_value(["failed"]).run()
    assert len(_table(at)) == 1
    at.multiselect(key="mr_status").set_value([]).run()
    at.selectbox(key="mr_field").set_value("cfg.transfer").run()
    at.multiselect(key="mr_values_cfg.transfer").set_value(["finetune"]).run()
    assert len(_table(at)) == 6 and "transfer" not in _table(at).columns  # shown columns: settings that differ
    at.multiselect(key="mr_sweeps").set_value([sweep.sweep_id]).run()
    assert not at.exception, at.exception


def test_train_page_sweep_form():
    make_grid_sweep(os.environ["EXPLORER_RUNS"], {"lr": [0.01, 0.1]}, 1, "speeds")  # measured speeds for the estimate
    paused = new_grid_sweep(BASE, Grid(parse_grid(["lr=0.01,0.03,0.1"])), os.environ["EXPLORER_RUNS"], name="later")
    paused.pause()
    at = AppTest.from_file(page_path("train"), default_timeout=300).run()
    assert not at.exception, at.exception
    assert any("**paused**" in m.value for m in at.markdown)
    at.selectbox(key=f"sw_{paused.sweep_id}_item").set_value(2).run()
    at.button(key=f"sw_{paused.sweep_id}_up").click().run()
    assert [i["index"] for i in paused.items()] == [0, 2, 1]
    at.button(key=f"sw_{paused.sweep_id}_cancel").click().run()
    assert paused.state() == "cancelled" and not at.exception
    at.multiselect(key="sweep_fields").set_value(["lr"]).run()
    at.text_input(key="sweep_val_lr").set_value("0.01,-1").run()
    assert any("lr=-1" in e.value for e in at.error)
    at.text_input(key="sweep_val_lr").set_value("0.01,0.03").run()
    assert not at.error and any("**2 runs**" in m.value for m in at.markdown)
    at.multiselect(key="sweep_fields").set_value(["lr", "momentum"]).run()
    at.text_input(key="sweep_val_lr").set_value("0.001:0.1:100:log").run()
    at.text_input(key="sweep_val_momentum").set_value("0.1:0.9:100").run()
    assert any("10,000 runs" in w.value for w in at.warning)
    assert at.button(key="sweep_start").disabled
    box = next(c for c in at.checkbox if c.key and c.key.startswith("sweep_confirm_"))
    box.check().run()
    assert not at.button(key="sweep_start").disabled
    at.radio(key="sweep_mode").set_value("optuna").run()
    at.number_input(key="sweep_trials").set_value(7).run()
    assert any("**7 trials**" in m.value for m in at.markdown)
    assert not at.exception, at.exception
