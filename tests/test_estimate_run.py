"""The one estimate of a run (issue 23, item 4): explorer.train.estimate.estimate_run, used by Train, Home, sweeps
and the CLI. Real small runs: the estimate states its settings and how sure it is, includes the data build when
the letters' cache is cold, is recorded in the run's config when the run starts and compared with the real time
when it ends; a second estimate of the same settings comes from that run (one matching rule, scaled by images)."""

from __future__ import annotations

import pytest

from explorer.config import TrainConfig
from explorer.runs import create_run, open_run
from explorer.sweep.estimate import grid_seconds, sweep_seconds
from explorer.train.estimate import MEASURED, RECORDED, RunEstimate, estimate_run, estimate_vs_actual
from explorer.train.job import train
from explorer.ui.train import phase_text, time_left_text


def tiny(size: int = 10, **kw) -> TrainConfig:
    data = {"name": "letters-builtin", "size": size, "val_fraction": 0.1, "gen_seed": 7}
    return TrainConfig.from_dict({"model": "small_cnn", "data": data, "epochs": 1, "batch_size": 64,
                                  "device": "cpu", **kw})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One real run of `tiny()` started with its estimate recorded, on a cold data cache."""
    mp = pytest.MonkeyPatch()
    mp.setenv("EXPLORER_DATA", str(tmp_path_factory.mktemp("cold-data")))
    root = tmp_path_factory.mktemp("est-runs")
    cfg = tiny()
    before = estimate_run(cfg, root)
    run = create_run(cfg, root, name="timed", estimate=before.to_dict())
    train(cfg, run_dir=run.path)
    yield root, before, open_run(run.path)
    mp.undo()


def test_a_cold_estimate_is_measured_on_its_settings_with_the_data_build(trained):
    _, before, _ = trained
    assert before.source == MEASURED and before.how.startswith("measured: 5 timed training steps just now (")
    assert before.data_seconds > 0 and "building 520 letters" in before.how  # (10 + 10 test) x 26, cache cold
    assert before.low < before.seconds < before.high and before.epochs == 1
    s = before.settings
    assert (s["model"], s["batch_size"], s["train_images"], s["input_size"]) == ("small_cnn", 64, 234, [1, 28, 28])
    assert before.settings_text() == f"small_cnn · 1x28x28 input · batch 64 · 234 images x 1 epoch · {s['device']}"


def test_the_run_records_the_estimate_and_compares_it_with_the_real_time(trained):
    _, before, run = trained
    assert RunEstimate.from_dict(run.config["estimate"]) == before
    metrics, hist = run.metrics(), run.history()
    assert metrics["data_s"] > 0 and all(h["val_time"] > 0 for h in hist)
    versus = estimate_vs_actual(run)
    assert versus.startswith(f"estimated {before.text()}, took ") and versus.endswith(")")


def test_the_next_estimate_of_the_same_settings_is_that_run(trained):
    root, _, run = trained
    again = estimate_run(tiny(), root)
    assert again.source == RECORDED and again.how.startswith("recorded: run timed took this long with the same")
    assert "the letters are cached" in again.how and again.data_seconds == 0
    ips = run.history()[0]["images_per_s"]
    assert again.images_per_s == pytest.approx(ips)
    # more images of the same model, batch and device: that run's speed, scaled by the images
    bigger = estimate_run(tiny(size=20), root)
    assert bigger.source == RECORDED and "scaled from 234 to 468 images" in bigger.how
    assert bigger.epoch_seconds > again.epoch_seconds and bigger.data_seconds > 0  # size 20 is not cached
    # another batch size is another speed: measured, not matched
    assert estimate_run(tiny(batch_size=32), root).source == MEASURED


def test_sweeps_sum_the_one_estimate(trained):
    root, _, _ = trained
    one = estimate_run(tiny(), root)
    total, notes = sweep_seconds([tiny(lr=0.01), tiny(lr=0.1)], root)
    assert total == pytest.approx(2 * one.seconds)  # the learning rate does not change the time
    assert notes == [f"{one.settings_text()}: {notes[0].split(': ', 1)[1]}"] and "recorded: run timed" in notes[0]
    g_total, _ = grid_seconds(tiny(), [{"lr": 0.01}, {"lr": 0.1}, {"lr": 0.3}], root)
    assert g_total == pytest.approx(3 * one.seconds)


def test_the_data_build_shows_what_happens_and_a_time_left():
    status = {"status": "running", "phase": "data 7680/31200", "data_done": 7680, "data_total": 31200,
              "data_eta_s": 40.0, "eta_s": None}
    assert phase_text(status) == "building the letters: 7,680 of 31,200"
    assert time_left_text(status) == "40s + training"
    assert time_left_text({**status, "eta_s": 400.0}) == "6m 40s"
    assert phase_text({"phase": "train"}) == "training" and time_left_text({"status": "completed"}) == "-"


def test_a_recorded_estimate_read_back_is_checked():
    assert RunEstimate.from_dict({"seconds": "abc"}) is None and RunEstimate.from_dict([1]) is None
    assert RunEstimate.from_dict({"seconds": -1, "low": 0, "high": 0, "images_per_s": 1, "epoch_seconds": 1,
                                  "data_seconds": 0}) is None
