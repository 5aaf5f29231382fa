"""`python -m explorer evaluate RUN` and `explain RUN IMAGE` on a real (untrained) run folder."""

from __future__ import annotations

import numpy as np
import pytest

import explorer.runs as runs


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run made with the runs store: small_cnn weights, predictions on a small built-in test split."""
    from explorer.config import TrainConfig
    from explorer.data import DataSpec, make_splits
    from explorer.evaluate import predict_proba
    from tests.run_fixtures import save_untrained_weights

    root = tmp_path_factory.mktemp("runs")
    data = {"name": "letters-builtin", "root": None, "size": 20, "seed": 0, "val_fraction": 0.2, "gen_seed": 0}
    cfg = TrainConfig(model="small_cnn", data=data, name="cli-test")
    run = runs.create_run(cfg, root=root)
    splits = make_splits(DataSpec.from_dict(data))
    save_untrained_weights(run, cfg, 26, epoch=1)
    run.update_config(classes=splits.classes, model={"name": "small_cnn", "num_classes": 26})
    images = splits.test.images.numpy()
    run.write_predictions(splits.test.labels.numpy(), predict_proba(run.load_model(), images), np.arange(len(images)))
    run.write_status(status="completed")
    # a second run that stopped before testing: weights but no predictions
    stopped = runs.create_run(cfg, root=root, name="stopped")
    save_untrained_weights(stopped, cfg, 26, epoch=1)
    stopped.update_config(classes=splits.classes, model={"name": "small_cnn", "num_classes": 26})
    stopped.write_status(status="stopped")
    return run.path, stopped.path, images[3]


def test_evaluate_command(run_dir, tmp_path, capsys):
    from explorer.cli import main

    path, _, _ = run_dir
    assert main(["evaluate", str(path), "--out", str(tmp_path / "ev")]) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and "macro" in out and "weighted" in out and "per-class report" in out
    assert (tmp_path / "ev" / "confusion.png").is_file() and (tmp_path / "ev" / "roc.html").is_file()


def test_evaluate_without_predictions(run_dir, capsys):
    from explorer.cli import main

    _, stopped, _ = run_dir
    assert main(["evaluate", str(stopped), "--no-figures"]) == 2
    err = capsys.readouterr().err
    assert "no saved predictions" in err and "stopped" in err and "--predict" in err
    # evaluate it now: same weights and test split as the complete run, so the same numbers
    assert main(["evaluate", str(stopped), "--no-figures", "--predict"]) == 0
    assert "accuracy" in capsys.readouterr().out
    full, now = runs.open_run(run_dir[0]).predictions(), runs.open_run(stopped).predictions()
    np.testing.assert_array_equal(full.y_true, now.y_true)
    np.testing.assert_allclose(full.y_prob, now.y_prob, atol=1e-6)


def test_explain_command_file_and_test_index(run_dir, tmp_path, capsys):
    from PIL import Image

    from explorer.cli import main

    path, _, letter = run_dir
    src = tmp_path / "letter.png"
    Image.fromarray(letter).save(src)
    out = tmp_path / "cam.png"
    assert main(["explain", str(path), str(src), "--method", "gradcam", "--out", str(out)]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert Image.open(out).size == (28 * 8 * 2 + 4, 28 * 8)
    text = capsys.readouterr().out
    assert "predicted" in text and "top-5" in text
    out2 = tmp_path / "occ.png"
    assert main(["explain", str(path), "test:0", "--method", "saliency", "--target", "B", "--out", str(out2)]) == 0
    assert "explained B" in capsys.readouterr().out


def test_explain_bad_inputs(run_dir, tmp_path, capsys):
    from explorer.cli import main

    path, _, image = run_dir
    bad = tmp_path / "notes.txt"
    bad.write_text("not an image")
    assert main(["explain", str(path), str(bad), "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "image" in err.lower()
    assert main(["explain", str(path), str(tmp_path / "missing.png"), "--out", str(tmp_path / "x.png")]) == 2
    assert "not found" in capsys.readouterr().err
    letter = tmp_path / "l.png"
    from PIL import Image

    Image.fromarray(image).save(letter)
    assert main(["explain", str(path), str(letter), "--layer", "nope", "--out", str(tmp_path / "x.png")]) == 2
    assert "no layer named" in capsys.readouterr().err
