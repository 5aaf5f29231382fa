"""AppTest of the Look-inside page and the Results tabs of issue 14, and the three CLI commands, on
run folders made without training: channels computed then shown from the store, the PCA map drawn,
an older run says it has no per-epoch predictions, robustness computed on request."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from explorer.cli import main
from explorer.views.jobs import wait_job
from tests.conftest import page_path
from tests.run_fixtures import make_page_run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """One completed small_cnn run on the tiny built-in letters."""
    return make_page_run(tmp_path_factory.mktemp("inside_runs"), "inside")


def page(name: str, run_dir, monkeypatch) -> AppTest:
    """Run a page with EXPLORER_RUNS at the run's root, checking that nothing raised."""
    monkeypatch.setenv("EXPLORER_RUNS", str(run_dir.parent))
    at = AppTest.from_file(page_path(name), default_timeout=180)
    at.run()
    assert not at.exception
    return at


def test_inside_page_channels_then_stored_and_pca_map(run_dir, monkeypatch):
    at = page("inside", run_dir, monkeypatch)
    at.selectbox(key="inside_layer").select_index(0).run()
    assert any("not been looked at" in i.value for i in at.info)
    layer = at.selectbox(key="inside_layer").value.rsplit(" (", 1)[0]
    at.button(key="inside_channels_go").click().run()  # a background job (explorer.views)
    assert not at.exception and not any("not been looked at" in i.value for i in at.info)
    assert wait_job("channels", {"run": str(run_dir), "layer": layer}, run_dir.parent, timeout=300).state == "done"
    assert wait_job("embedding", {"run": str(run_dir), "method": "pca"}, run_dir.parent, timeout=300).state == "done"
    at.run()  # what the page's polling fragment does once the job is done
    captions = [c.value for c in at.caption]
    assert any("24 channels on a 28x28 grid" in c for c in captions)
    captions = " | ".join(c for image in at.get("image") for c in image.captions)
    assert captions.count("channel ") == 12
    at2 = page("inside", run_dir, monkeypatch)
    at2.selectbox(key="inside_layer").select_index(0).run()
    assert not any("not been looked at" in i.value for i in at2.info)  # the stored result, no button
    assert any("misclassified (ringed)" in c.value for c in at2.caption)


def test_results_tabs_older_run_and_robustness(run_dir, monkeypatch):
    at = page("results", run_dir, monkeypatch)
    assert any("trained before the training loop kept" in i.value for i in at.info)
    at.button(key="results_robust_go").click().run()
    assert not at.exception
    assert wait_job("robustness", {"run": str(run_dir)}, run_dir.parent, timeout=300).state == "done"
    at.run()
    table = next(d.value for d in at.dataframe if "severity 5" in d.value.columns)
    assert len(table) == 8 and ((table["severity 5"] >= 0) & (table["severity 5"] <= 1)).all()


def test_cli_commands_write_their_files(run_dir, tmp_path, capsys):
    assert main(["inside", str(run_dir), "--layer", "net.features.4", "--k", "3", "--out", str(tmp_path / "ch")]) == 0
    assert len(list((tmp_path / "ch").glob("channel_*.png"))) == 48
    assert len(pd.read_csv(tmp_path / "ch" / "channels.csv")) == 48
    assert main(["embed", str(run_dir), "--method", "pca", "--out", str(tmp_path / "map.png")]) == 0
    assert (tmp_path / "map.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["robustness", str(run_dir), "--out", str(tmp_path / "curves.csv")]) == 0
    curves = pd.read_csv(tmp_path / "curves.csv")
    assert len(curves) == 48 and np.isfinite(curves.accuracy).all()
    assert main(["inside", str(run_dir), "--layer", "net.pool", "--out", str(tmp_path / "x")]) == 2
    assert "no spatial extent" in capsys.readouterr().err
    assert main(["robustness", "no-such-run", "--out", str(tmp_path / "c.csv")]) == 2
