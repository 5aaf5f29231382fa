"""Channel view: the stored top patch is the brute-force maximum, receptive-field boxes match the
gradient support, crops at the borders are padded in the right place, stored results are reused and
a corrupt one is recomputed, bad layers and training runs are refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.inside.channels import PAD_VALUE, channel_patches, crop, geometry, run_channels, top_units
from explorer.inside.common import InsideError
from explorer.models import build_letters_model
from tests.run_fixtures import make_page_run


def _images(n: int = 40) -> np.ndarray:
    """Seeded random uint8 letters-sized images."""
    return (np.random.default_rng(1).random((n, 28, 28)) * 255).astype(np.uint8)


def test_top_patch_is_the_brute_force_maximum():
    torch.manual_seed(0)
    model = build_letters_model("small_cnn").eval()
    images, layer = _images(), "net.features.4"
    tops = top_units(model, images, layer, k=3, batch_size=16)
    acts = {}
    handle = dict(model.named_modules())[layer].register_forward_hook(lambda m, i, o: acts.setdefault("a", o))
    with torch.no_grad():
        model(torch.from_numpy(images).float()[:, None] / 255)
    handle.remove()
    a = acts["a"].numpy()  # (N, C, h, w)
    for c in range(a.shape[1]):
        flat = a[:, c].reshape(len(a), -1)
        n, pos = np.unravel_index(np.argmax(flat), flat.shape)
        assert tops.values[c, 0] == pytest.approx(flat[n, pos], rel=1e-5)
        assert a[tops.index[c, 0], c, tops.unit_i[c, 0], tops.unit_j[c, 0]] == pytest.approx(flat[n, pos], rel=1e-5)
        per_image = np.sort(flat.max(1))[::-1][:3]
        np.testing.assert_allclose(tops.values[c], per_image, rtol=1e-5)


def test_receptive_field_box_is_the_gradient_support():
    torch.manual_seed(0)
    model = build_letters_model("small_cnn").eval()
    layer = "net.features.4"  # conv after one pool: rf 14, jump 2
    geo = geometry(model, layer)
    out = {}
    handle = dict(model.named_modules())[layer].register_forward_hook(lambda m, i, o: out.setdefault("a", o))
    x = torch.rand(1, 1, 28, 28, requires_grad=True)
    model(x)
    handle.remove()
    i, j = 6, 3
    out["a"][0, :, i, j].sum().backward()
    ys, xs = np.nonzero(x.grad[0, 0].abs().numpy() > 0)
    y0, x0, y1, x1 = geo.box(i, j)
    assert (ys.min(), ys.max() + 1, xs.min(), xs.max() + 1) == (max(y0, 0), min(y1, 28), max(x0, 0), min(x1, 28))


def test_crops_at_the_borders_pad_outside_the_image():
    image = (np.arange(28 * 28) % 200 + 50).reshape(28, 28).astype(np.uint8)
    c = crop(image, (-6, -6, 8, 8))
    assert c.shape == (14, 14)
    assert (c[:6] == PAD_VALUE).all() and (c[:, :6] == PAD_VALUE).all()
    np.testing.assert_array_equal(c[6:, 6:], image[:8, :8])
    c = crop(image, (20, 22, 34, 36))
    np.testing.assert_array_equal(c[:8, :6], image[20:, 22:])
    assert (c[8:] == PAD_VALUE).all() and (c[:, 6:] == PAD_VALUE).all()
    geo = geometry(build_letters_model("small_cnn").eval(), "net.features.4")
    assert geo.box(0, 0) == (-6, -6, 8, 8) and geo.box(13, 13) == (20, 20, 34, 34)


def test_layer_without_spatial_extent_is_refused():
    model = build_letters_model("small_cnn").eval()
    with pytest.raises(InsideError, match="no spatial extent.*net.features"):
        geometry(model, "net.pool")
    with pytest.raises(InsideError, match="does not exist"):
        geometry(model, "nope")


def test_run_channels_stores_reuses_and_recomputes_a_corrupt_store(tmp_path):
    run_dir = make_page_run(tmp_path, "chan")
    tops, stored = run_channels(run_dir, "net.features.0", k=4)
    assert not stored and tops.values.shape == (24, 4)
    again, stored = run_channels(run_dir, "net.features.0", k=4)
    assert stored
    np.testing.assert_array_equal(again.index, tops.index)
    from explorer.runs import Run

    images = Run(run_dir).splits().test.images.numpy()
    crops, mean = channel_patches(again, images, 0)
    assert len(crops) == 4 and mean.shape == (5, 5)
    for f in (run_dir / "inside").glob("channels-*.npz"):
        f.write_bytes(b"PK\x03\x04 not really a zip")
    fresh, stored = run_channels(run_dir, "net.features.0", k=4)
    assert not stored
    np.testing.assert_array_equal(fresh.index, tops.index)


def test_a_training_run_is_refused(tmp_path):
    run_dir = make_page_run(tmp_path, "busy", status="running")
    import json
    import os

    status = json.loads((run_dir / "status.json").read_text())
    status.update(pid=os.getpid())
    (run_dir / "status.json").write_text(json.dumps(status))
    with pytest.raises(InsideError, match="still training"):
        run_channels(run_dir, "net.features.0")


def test_a_run_without_test_predictions_still_gets_every_view(tmp_path):
    from explorer.inside.embedding import run_embedding
    from explorer.inside.robustness import run_robustness

    run_dir = make_page_run(tmp_path, "nopreds", predictions=False)
    emb, _ = run_embedding(run_dir, "pca")
    assert emb.xy.shape == (260, 2) and np.isfinite(emb.xy).all()
    table, _ = run_robustness(run_dir)
    assert table["accuracy"].between(0, 1).all()
    tops, _ = run_channels(run_dir, "net.features.8", k=2)
    assert tops.values.shape == (96, 2)


def test_a_run_with_corrupt_weights_is_a_clear_error(tmp_path):
    run_dir = make_page_run(tmp_path, "badweights", weights="corrupt")
    with pytest.raises(InsideError, match="not a valid safetensors"):
        run_channels(run_dir, "net.features.0")
