"""Faithfulness figures on a small model trained here: Grad-CAM's deletion area beats a random order,
the map decorrelates under cascading randomisation, everything is deterministic for a seed; the run cache."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from explorer.cli import main
from explorer.config import TrainConfig
from explorer.data import DataSpec
from explorer.run_models import load_run_model
from explorer.runs import Run
from explorer.train.job import train
from explorer.trust.faithfulness import SANITY_LIMIT, deletion, deletion_images, rank_corr, sanity_check
from explorer.trust.report import pick_images, trust_report


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Run:
    """lenet_keras trained 4 epochs on 20 built-in letters per class (test accuracy well above chance)."""
    cfg = TrainConfig(model="lenet_keras", data=DataSpec(size=20), epochs=4, optimizer="adam", lr=3e-3,
                      batch_size=32, device="cpu", name="trust-small")
    run = train(cfg, root=tmp_path_factory.mktemp("trust_runs"))
    assert run is not None and run.metrics()["test_acc"] > 0.2
    return run


def test_deletion_images_remove_pixels_in_order() -> None:
    img = np.arange(16, dtype=np.float32).reshape(4, 4) / 16 + 0.01
    order = np.arange(16)[::-1]
    imgs, frac = deletion_images(img, order, 4)
    assert frac.tolist() == [0, 0.25, 0.5, 0.75, 1.0]
    assert (imgs[0] == img).all() and (imgs[-1] == 0).all()
    assert (imgs[1].ravel()[12:] == 0).all() and (imgs[1].ravel()[:12] > 0).all()
    assert rank_corr(img, img) == pytest.approx(1.0) and rank_corr(img, np.zeros_like(img)) == 0.0


def test_gradcam_beats_random_and_fails_no_sanity_check(trained) -> None:
    out = trust_report(trained, ["gradcam"], images=8, seed=0, sanity_images=2, use_cache=False)["gradcam"]
    assert out["deletion_area"] < out["deletion_area_random"]
    assert out["rank_corr_randomised"] < SANITY_LIMIT and not out["flagged"]
    assert len(out["rank_corr_by_step"]) == len(out["randomised_blocks"]) >= 3


def test_figures_are_deterministic_and_cached(trained) -> None:
    model = load_run_model(trained)
    image = pick_images(trained, 1, seed=4)[0]
    from explorer.explain import explain

    ex = explain(model, image, "gradcam")
    d1, d2 = deletion(model, image, ex.heatmap, ex.target, seed=5), deletion(model, image, ex.heatmap, ex.target, seed=5)
    assert np.array_equal(d1.curve, d2.curve) and np.array_equal(d1.random_curve, d2.random_curve)
    assert d1.curve[0] == pytest.approx(float(ex.probs[ex.target]), abs=1e-5)
    s1, s2 = sanity_check(model, image, "saliency", seed=2), sanity_check(model, image, "saliency", seed=2)
    assert s1.rank_corr == s2.rank_corr
    key = {"k": 1}
    assert trained.derived.read("trust-test", key) is None
    trained.derived.write("trust-test", key, {"v": [1, 2]})
    assert trained.derived.read("trust-test", key) == {"v": [1, 2]} and trained.derived.read("trust-test", {"k": 2}) is None


def test_cli_trust_writes_the_json_and_refuses_a_running_run(trained, tmp_path, capsys) -> None:
    out = tmp_path / "trust.json"
    assert main(["trust", str(trained.path), "--images", "3", "--sanity-images", "1", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert set(data["gradcam"]) >= {"deletion_area", "deletion_area_random", "rank_corr_randomised"}
    assert main(["trust", str(trained.path), "--method", "nope", "--out", str(out), "--force"]) == 2
    assert "unknown method" in capsys.readouterr().err
    status = trained.raw_status
    trained.write_status(status="running", pid=os.getpid())
    try:
        assert main(["trust", str(trained.path), "--images", "2", "--no-cache"]) == 2
        err = capsys.readouterr().err
        assert "still training" in err and "Traceback" not in err
    finally:
        trained.write_status(**{k: v for k, v in status.items() if k != "heartbeat"})
