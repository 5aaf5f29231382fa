"""explorer.models.inference (the one inference path) and explorer.run_models (the one model cache):
the batch helper's ranks, dtypes and ranges; every consumer gives the same probabilities; the cache
returns the same model until the weights file changes."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
import torch

from explorer.models import build_letters_model, model_lock, probabilities, softmax_output, to_batch


def letters(n: int = 6, seed: int = 0) -> np.ndarray:
    """n uint8 (28, 28) "letters": a vertical and a horizontal bar at seeded places, light on dark."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 28, 28), np.uint8)
    for img in out:
        r, c = rng.integers(3, 12, size=2)
        img[r : r + 14, c : c + 3] = 255
        img[r + 12 : r + 15, c : c + 10] = 200
        img += rng.integers(0, 30, size=(28, 28), dtype=np.uint8)
    return out


@pytest.fixture(scope="module")
def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_letters_model("small_cnn").eval()


# ----------------------------------------------------------------------------- to_batch
@pytest.mark.parametrize("shape, n", [((28, 28), 1), ((4, 28, 28), 4), ((1, 28, 28), 1), ((4, 1, 28, 28), 4)])
@pytest.mark.parametrize("torch_input", [False, True])
def test_to_batch_ranks(shape, n, torch_input):
    arr = np.arange(np.prod(shape)).reshape(shape).astype(np.uint8)
    x = to_batch(torch.from_numpy(arr) if torch_input else arr)
    assert x.shape == (n, 1, 28, 28) and x.dtype == torch.float32
    np.testing.assert_array_equal(x.numpy().reshape(shape), arr.astype(np.float32) / 255.0)


def test_to_batch_dtypes_and_values():
    u8 = np.array([[0, 51, 102, 255]] * 28, np.uint8).repeat(7, axis=1)  # (28, 28)
    x = to_batch(u8)
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    assert x[0, 0, 0, 7].item() == pytest.approx(0.2) and x[0, 0, 0, 14].item() == pytest.approx(0.4)
    for dtype in (np.float16, np.float32, np.float64):
        f = to_batch((u8 / 255.0).astype(dtype))
        assert f.dtype == torch.float32
        np.testing.assert_allclose(f.numpy(), x.numpy(), atol=1e-3 if dtype == np.float16 else 1e-7)
    t = torch.rand(3, 1, 28, 28)
    assert torch.equal(to_batch(t), t)  # float32 in [0, 1]: the same values
    assert to_batch((u8 / 255.0).tolist()).shape == (1, 1, 28, 28)  # nested lists of floats too
    assert to_batch(np.zeros((0, 28, 28), np.uint8)).shape == (0, 1, 28, 28)


@pytest.mark.parametrize("bad, match", [
    (np.zeros(28, np.uint8), "one channel"),
    (np.zeros((1, 1, 1, 28, 28), np.uint8), "one channel"),
    (np.zeros((2, 3, 28, 28), np.uint8), "one channel"),
    (np.zeros((32, 32), np.uint8), "must be 28x28"),
    (np.zeros((28, 28), np.int64), "uint8 .* or float"),
    (np.zeros((28, 28), bool), "uint8 .* or float"),
    (np.full((28, 28), 255.0, np.float32), r"\[0, 1\].*divide by 255"),
    (np.full((28, 28), -0.5, np.float32), r"\[0, 1\], got values from -0.5"),
    (np.full((28, 28), np.nan, np.float32), r"\[0, 1\]"),
    (np.array([["a"] * 28] * 28), "numeric"),
])
def test_to_batch_rejects_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        to_batch(bad)


# ----------------------------------------------------------------------------- probabilities
def test_probabilities_are_the_models_softmax(model):
    images = letters(6)
    p = probabilities(model, images)
    assert p.shape == (6, 26) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    with torch.no_grad():
        ref = torch.softmax(model(torch.from_numpy(images).float()[:, None] / 255.0), 1).numpy()
    np.testing.assert_allclose(p, ref, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(probabilities(model, images, batch_size=1), p, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="no images"):
        probabilities(model, images[:0])
    with pytest.raises(ValueError, match="batch_size"):
        probabilities(model, images, batch_size=0)


def test_probabilities_eval_mode_restores_flag_and_holds_the_lock(model):
    images = letters(4)
    ref = probabilities(model, images)
    seen = []

    def hook(_m, _inp, _out):  # inside the forward: can another thread take the model's lock?
        got = []
        t = threading.Thread(target=lambda: got.append(model_lock(model).acquire(blocking=False)))
        t.start()
        t.join()
        seen.append((model.training, got[0]))

    handle = model.register_forward_hook(hook)
    model.train()
    try:
        p = probabilities(model, images)
    finally:
        handle.remove()
        training_after = model.training
        model.eval()
    assert training_after and seen == [(False, False)]  # eval inside, locked inside, flag restored
    np.testing.assert_array_equal(p, ref)  # BatchNorm used its running stats, as in eval


def test_softmax_output_takes_tuples():
    logits = torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float16)
    p = softmax_output((logits, torch.zeros(1, 3)))
    assert p.dtype == torch.float32
    np.testing.assert_allclose(p.numpy(), torch.softmax(logits.float(), 1).numpy())


def test_every_consumer_gives_the_same_probabilities(model):
    from explorer.evaluate import predict_proba
    from explorer.explain import explain, top_k
    from explorer.predict import predict_from_image, predict_image

    images = letters(5)
    batch = probabilities(model, images)
    np.testing.assert_array_equal(predict_proba(model, images), batch)  # evaluate's name for it
    for i, img in enumerate(images):
        one = probabilities(model, img)[0]
        np.testing.assert_allclose(one, batch[i], rtol=1e-5, atol=1e-7)  # batched vs alone
        x = torch.from_numpy(img).float()[None] / 255.0
        np.testing.assert_array_equal(predict_image(model, x).probs, one)  # Draw page
        ranked = top_k(model, x, k=26)  # Explain page's table
        assert [i for i, _, _ in ranked] == list(np.argsort(-one, kind="stable"))
        np.testing.assert_array_equal([p for _, _, p in ranked], np.sort(one)[::-1])
        np.testing.assert_allclose(explain(model, x, "saliency").probs, one, rtol=1e-5, atol=1e-7)
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., 3] = 255
    canvas[40:240, 90:120, :3] = 255
    x, pred = predict_from_image(model, canvas)  # canvas -> preprocess -> the same path
    np.testing.assert_array_equal(pred.probs, probabilities(model, x)[0])


# ----------------------------------------------------------------------------- the model cache
def _bump(path, seconds: int = 5) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + seconds * 10**9))


def test_cache_same_object_until_weights_change_and_predict_run_uses_it():
    from safetensors import safe_open
    from safetensors.torch import save_file

    from explorer.evaluate import predict_run
    from explorer.run_models import clear_model_cache, load_run_model
    from explorer.runs import open_run
    from tests.run_fixtures import make_run

    run = make_run(name="cache")
    m1 = load_run_model(run.run_id)
    assert load_run_model(run.path) is m1 and load_run_model(open_run(run.path)) is m1
    last = load_run_model(run, "last")
    assert last is not m1  # which weights is part of the key
    test = run.splits().test
    preds = predict_run(run, save=False)  # Results' "evaluate now" goes through the same cache
    np.testing.assert_array_equal(preds.y_prob, probabilities(m1, test.images.numpy()))
    assert load_run_model(run) is m1

    torch.manual_seed(123)  # "retrain": other weights of the same architecture, same file size
    other = build_letters_model("small_cnn")
    path = run.weights_path("best")
    size = path.stat().st_size
    with safe_open(str(path), framework="pt") as fh:  # keep the checkpoint's metadata (its epoch)
        meta = fh.metadata()
    save_file({k: v.contiguous() for k, v in other.state_dict().items()}, str(path), metadata=meta)
    _bump(path)
    assert path.stat().st_size == size
    m2 = load_run_model(run.run_id)
    assert m2 is not m1 and load_run_model(run.run_id) is m2
    assert load_run_model(run, "last") is last  # untouched file -> still cached
    images = letters(3)
    assert not np.allclose(probabilities(m2, images), probabilities(m1, images))
    np.testing.assert_allclose(probabilities(m2, images), probabilities(other.eval(), images), rtol=1e-5, atol=1e-7)
    clear_model_cache()
    assert load_run_model(run.run_id) is not m2


def test_missing_weights_is_both_weights_and_file_not_found_error():
    from explorer.evaluate import predict_run
    from explorer.run_models import NoWeightsError, WeightsError, load_run_model
    from tests.run_fixtures import make_run

    run = make_run(name="noweights", weights=False)
    with pytest.raises(NoWeightsError, match="no saved weights") as info:
        load_run_model(run)
    assert isinstance(info.value, WeightsError) and isinstance(info.value, FileNotFoundError)
    with pytest.raises(FileNotFoundError, match="no saved weights"):
        predict_run(run, save=False)
