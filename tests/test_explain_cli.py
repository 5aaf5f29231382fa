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


def test_predict_command_reads_files_and_test_images_like_draw(run_dir, tmp_path, capsys):
    """`explorer predict` gives the Draw page's answer (predict_from_image) for a file, and the saved
    predictions' top letter for test:N."""
    import json

    from PIL import Image

    from explorer.cli import main
    from explorer.predict import predict_from_image

    path, _, letter = run_dir
    src = tmp_path / "letter.png"
    Image.fromarray(letter).save(src)
    assert main(["predict", str(path), str(src), "test:0", "test:5", "--top", "3", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["device"].startswith("cpu") and [p["image"] for p in got["predictions"]] == [str(src), "test:0", "test:5"]
    run = runs.open_run(path)
    _, want = predict_from_image(run.load_model(), src.read_bytes(), run.classes, k=3)
    file_top = got["predictions"][0]["top"]
    assert [c for c, _ in file_top] == want.letters
    assert [p for _, p in file_top] == pytest.approx(want.top_probs, abs=1e-5)
    saved = run.predictions()
    for row, i in zip(got["predictions"][1:], (0, 5), strict=True):
        assert row["top"][0][0] == run.classes[int(saved.y_prob[i].argmax())]
        assert row["top"][0][1] == pytest.approx(float(saved.y_prob[i].max()), abs=1e-5)
    assert main(["predict", str(path), "test:1"]) == 0
    assert "test:1: " in capsys.readouterr().out


def test_device_options_refuse_clearly(run_dir, tmp_path, capsys):
    """--device on predict, explain and evaluate: one line (exit 2) for an unknown name or a GPU that is not here."""
    import torch

    from explorer.cli import main

    path, _, _ = run_dir
    cases = [["predict", str(path), "test:0"], ["explain", str(path), "test:0", "--out", str(tmp_path / "e.png")],
             ["evaluate", str(path), "--recompute", "--no-figures"]]
    for cmd in cases:
        assert main([*cmd, "--device", "tpu9"]) == 2
        assert "unknown device 'tpu9'" in capsys.readouterr().err
        if not torch.cuda.is_available():
            assert main([*cmd, "--device", "cuda:0"]) == 2
            err = capsys.readouterr().err
            assert err.startswith("error: device 'cuda:0' was asked for") and "use 'auto' or 'cpu'" in err
    assert main(["predict", str(path), "test:999999"]) == 2
    assert "out of range" in capsys.readouterr().err
    assert not (tmp_path / "e.png").exists()


def test_evaluate_recompute_matches_the_saved_predictions(run_dir, capsys):
    from explorer.cli import main

    path, _, _ = run_dir
    before = (path / "predictions.npz").read_bytes()
    assert main(["evaluate", str(path), "--no-figures"]) == 0
    saved = capsys.readouterr().out
    assert main(["evaluate", str(path), "--no-figures", "--recompute", "--device", "cpu"]) == 0
    fresh = capsys.readouterr().out
    assert "recomputed on cpu" in fresh
    pick = lambda text: [ln for ln in text.splitlines() if ln.startswith("accuracy")]  # noqa: E731
    assert pick(fresh) == pick(saved)
    assert (path / "predictions.npz").read_bytes() == before  # nothing in the run changed
