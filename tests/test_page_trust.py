"""AppTest of the trust views: Compare runs' per-image disagreement and the Data page's label-issues tab."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from explorer.views.jobs import wait_job
from tests.conftest import page_path
from tests.run_fixtures import make_run


def test_compare_runs_shows_the_paired_counts() -> None:
    make_run(name="page-a", seed=0)
    make_run(name="page-b", seed=1)
    at = AppTest.from_file(page_path("compare_runs"), default_timeout=120)
    at.run()
    if len(at.multiselect[0].value) < 2:
        at.multiselect[0].set_value(at.multiselect[0].options[:2]).run()
    assert not at.exception
    text = " ".join(str(m.value) for m in at.markdown)
    assert "104 paired test images" in text


def test_data_page_ranks_label_issues() -> None:
    at = AppTest.from_file(page_path("data"), default_timeout=240)
    at.run()
    at.number_input(key="data_size").set_value(20).run()
    at.number_input(key="li_folds").set_value(2).run()
    at.button(key="li_run").click().run()  # a background job (explorer.views)
    assert not at.exception and not at.error
    spec = {"dataset": "letters-builtin", "model": "lenet_keras", "folds": 2, "size": 20, "seed": 0, "epochs": 6,
            "inject_flips": 0.0, "root": None, "gen_seed": 0}
    assert wait_job("label_issues", {"spec": spec}, timeout=600).state == "done"
    at.run()
    assert any("780 images ranked" in str(m.value) for m in at.markdown)
