"""Inside views on one tiny trained run: per-epoch validation predictions (the last epoch's confusion
equals the one the last weights give), robustness severity 0 equals the plain test accuracy, the
embedding map (PCA, seeded t-SNE deterministic) and the refusals of older and corrupt runs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.config import TrainConfig
from explorer.inside.embedding import pca_2d, run_embedding, tsne_2d
from explorer.inside.epochs import epoch_predictions
from explorer.inside.robustness import SEVERITIES, TRANSFORMS, perturb, run_robustness
from explorer.runs import Run
from explorer.train.job import train
from explorer.train.loop import validate
from tests.run_fixtures import make_page_run


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Run:
    """small_cnn, 2 epochs on the tiny built-in letters (the loop's own files)."""
    cfg = TrainConfig.from_dict({"model": "small_cnn", "data": {"name": "letters-builtin", "size": 20,
                                 "val_fraction": 0.1}, "epochs": 2, "batch_size": 64, "lr": 0.05})
    run = train(cfg, root=tmp_path_factory.mktemp("trained"))
    assert run is not None and run.status["status"] == "completed"
    return run


def test_last_epoch_confusion_equals_the_last_weights_on_the_validation_split(trained):
    ep = epoch_predictions(trained)
    assert ep is not None and ep.epochs == [1, 2]
    for row in trained.history():
        e = int(row["epoch"])
        assert np.trace(ep.confusion(e)) / ep.confusion(e).sum() == pytest.approx(row["val_acc"], abs=1e-6)
    val = trained.splits().val
    model = trained.load_model("last")
    _, _, probs = validate(model, val.images, val.labels, torch.device("cpu"))
    k = len(ep.classes)
    expected = np.bincount(val.labels.numpy() * k + probs.argmax(1).numpy(), minlength=k * k).reshape(k, k)
    np.testing.assert_array_equal(ep.confusion(2), expected)
    np.testing.assert_allclose(ep.prob[2], probs.max(1).values.numpy(), atol=1e-3)
    acc = ep.per_class_accuracy()
    assert len(acc) == 2 * k and set(acc["epoch"]) == {1, 2}
    assert ep.bytes_on_disk > 0


def test_robustness_severity_zero_is_the_plain_test_accuracy(trained):
    table, stored = run_robustness(trained)
    assert not stored and len(table) == len(TRANSFORMS) * SEVERITIES
    zero = table[table["severity"] == 0]["accuracy"]
    assert zero.to_numpy() == pytest.approx([trained.metrics()["test_acc"]] * len(TRANSFORMS), abs=1e-9)
    again, stored = run_robustness(trained)
    assert stored and again["accuracy"].tolist() == pytest.approx(table["accuracy"].tolist())


def test_perturbations_change_the_image_as_named():
    x = torch.zeros(1, 1, 28, 28)
    x[..., 12:16, 12:16] = 1.0
    assert torch.equal(perturb(x, "rotation", 0), x)
    assert perturb(x, "dilation", 5).sum() == 36 and perturb(x, "erosion", 5).sum() == 4
    assert perturb(x, "dilation", 1).sum() == pytest.approx(16 + 0.2 * 20)  # 20 new pixels at one fifth
    assert perturb(x, "occlusion", 1).sum() == 0  # a 4x4 patch at the centre covers the square
    shifted = perturb(x, "shift", 2)
    assert torch.allclose(shifted[..., 14:18, 14:18], torch.ones(1, 1, 4, 4), atol=1e-5)
    with pytest.raises(ValueError, match="unknown transform"):
        perturb(x, "melt", 1)


def test_tsne_is_deterministic_for_a_seed_and_pca_is_fast_and_centred():
    x = np.random.default_rng(0).normal(size=(60, 8)).astype(np.float32)
    a, b = tsne_2d(x, seed=3), tsne_2d(x, seed=3)
    np.testing.assert_array_equal(a, b)
    p = pca_2d(x)
    assert p.shape == (60, 2) and abs(p.mean()) < 1e-4 and p[:, 0].var() >= p[:, 1].var()
    xc = x - x.mean(0)
    vt = np.linalg.svd(xc.astype(np.float64), full_matrices=False)[2]
    np.testing.assert_allclose(np.abs(p), np.abs(xc @ vt[:2].T), atol=1e-4)  # the SVD's components


def test_embedding_map_is_stored_and_corrupt_store_recomputed(trained):
    emb, stored = run_embedding(trained, "pca")
    assert not stored and emb.xy.shape == (len(emb.y_true), 2)
    preds = trained.predictions()
    order = np.argsort(preds.indices)
    np.testing.assert_array_equal(emb.y_pred, preds.y_prob[order].argmax(1))
    for f in (trained.path / "inside").glob("embedding-*.npz"):
        f.write_bytes(b"garbage")
    again, stored = run_embedding(trained, "pca")
    assert not stored
    np.testing.assert_allclose(again.xy, emb.xy, atol=1e-4)


def test_run_from_an_older_version_has_no_epoch_predictions(tmp_path):
    run_dir = make_page_run(tmp_path, "old")
    assert epoch_predictions(run_dir) is None
    (run_dir / "val_epochs").mkdir()
    (run_dir / "val_epochs" / "epoch-0001.npz").write_bytes(b"not an npz")
    assert epoch_predictions(run_dir) is None
