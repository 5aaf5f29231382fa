"""explorer.predict: image -> the model's tensor -> prediction; cached run models; unreadable weights."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.data import BlankImageError, ImageError, load_image_bytes, preprocess_image
from explorer.predict import (
    WeightsError,
    check_weights,
    format_top,
    load_run_model,
    predict_from_image,
    predict_image,
    runs_for_prediction,
)
from explorer.runs import list_runs
from tests.run_fixtures import LETTERS, make_run


def canvas_l(size: int = 280) -> np.ndarray:
    """An RGBA canvas like streamlit-drawable-canvas returns: a white 'L' on black."""
    img = np.zeros((size, size, 4), np.uint8)
    img[..., 3] = 255
    img[40:240, 90:120, :3] = 255
    img[210:240, 90:200, :3] = 255
    return img


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    from explorer.models import build_letters_model

    return build_letters_model("small_cnn").eval()


def test_canvas_to_tensor_to_prediction(model):
    x, pred = predict_from_image(model, canvas_l(), LETTERS)
    assert x.shape == (1, 28, 28) and x.dtype == torch.float32
    assert torch.equal(x, preprocess_image(canvas_l()))  # the one preprocessing path
    assert float(x.max()) == 1.0 and float(x[0, 0].sum()) == 0.0  # ink scaled to 1, first row empty
    assert len(pred.letters) == 5 and pred.top_probs == sorted(pred.top_probs, reverse=True)
    assert pred.probs.shape == (26,) and pred.probs.sum() == pytest.approx(1.0, abs=1e-5)
    with torch.no_grad():
        ref = torch.softmax(model(x[None]), 1)[0].numpy()
    np.testing.assert_allclose(pred.probs, ref, rtol=1e-5, atol=1e-6)
    assert pred.letters[0] == LETTERS[int(ref.argmax())]
    assert format_top(pred) == f"{pred.letters[0]} {100 * pred.top_probs[0]:.1f}%"
    assert set(pred.timings) == {"preprocess_ms", "forward_ms"} and pred.latency_ms > 0


def test_predict_image_takes_batched_and_checks_shape(model):
    x = preprocess_image(canvas_l())
    a, b = predict_image(model, x), predict_image(model, x[None])
    np.testing.assert_allclose(a.probs, b.probs)
    with pytest.raises(ValueError, match="one 1-channel image"):
        predict_image(model, torch.zeros(2, 1, 28, 28))


def test_blank_canvas_and_bad_upload(model):
    blank = np.zeros((280, 280, 4), np.uint8)
    with pytest.raises(BlankImageError, match="draw a letter"):
        predict_from_image(model, blank)
    with pytest.raises(ImageError, match="not an image"):
        predict_from_image(model, b"%PDF-1.7 this is not a picture")
    with pytest.raises(ImageError, match="not an image"):
        load_image_bytes(b"hello")
    buf = io.BytesIO()
    Image.fromarray(255 - canvas_l()[..., 0]).save(buf, format="PNG")  # dark ink on white paper (a photo)
    x, _ = predict_from_image(model, buf.getvalue())
    assert torch.allclose(x, preprocess_image(canvas_l()), atol=2 / 255)


def test_load_run_model_is_cached_and_predicts():
    run = make_run(name="ok")
    m1 = load_run_model(run.run_id)
    assert load_run_model(run.path) is m1  # same run, same weights file -> the cached model
    _, pred = predict_from_image(m1, canvas_l(), run.config["classes"])
    assert pred.classes == LETTERS
    run.weights_path("best").write_bytes(run.weights_path("last").read_bytes())
    import os

    st = run.weights_path("best").stat()
    os.utime(run.weights_path("best"), (st.st_atime, st.st_mtime + 5))
    assert load_run_model(run.run_id) is not m1  # rewritten weights -> reloaded


@pytest.mark.parametrize("damage", ["truncated", "not_safetensors", "empty", "bad_header", "wrong_tensors"])
def test_unreadable_weights_name_the_file(damage):
    good = make_run(name="good")
    bad = make_run(name=f"bad-{damage}")
    path = bad.weights_path("best")
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "not_safetensors":
        path.write_bytes(b"PK\x03\x04" + b"\0" * 400)  # e.g. a torch.save zip renamed
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "bad_header":
        path.write_bytes((20).to_bytes(8, "little") + b"{not json at all!!}" + b"\0" * 64)
    else:
        from safetensors.torch import save_file

        save_file({"something.else": torch.zeros(3)}, str(path))
    with pytest.raises(WeightsError, match=str(path).replace(".", r"\.")):
        load_run_model(bad.run_id)
    ids = {r.run_id for r in list_runs()}
    assert {good.run_id, bad.run_id} <= ids  # listing still works
    ok, unreadable = runs_for_prediction()
    assert good.run_id in {r.run_id for r in ok}
    if damage != "wrong_tensors":  # framing is fine there; only loading finds it
        assert bad.run_id in unreadable and str(path) in unreadable[bad.run_id]
        with pytest.raises(WeightsError):
            check_weights(path)
    assert load_run_model(good.run_id) is not None  # the rest keeps working


def test_run_without_weights_is_not_offered():
    run = make_run(name="nowts", weights=False)
    ok, bad = runs_for_prediction()
    assert run.run_id not in {r.run_id for r in ok} and run.run_id not in bad
    with pytest.raises(WeightsError, match="no saved weights"):
        load_run_model(run.run_id)
