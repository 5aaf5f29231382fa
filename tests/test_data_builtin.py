"""The built-in letters: determinism, caching, EMNIST-like look; scikit-learn digits; the registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from explorer.data import DATASET_NAMES, builtin, get_dataset_info, list_datasets, load_dataset


def test_generation_is_deterministic_and_independent_of_workers() -> None:
    a_img, a_lab = builtin.generate(3, seed=7, workers=1)
    b_img, b_lab = builtin.generate(3, seed=7, workers=1)
    np.testing.assert_array_equal(a_img, b_img)
    np.testing.assert_array_equal(a_lab, b_lab)
    c_img, _ = builtin.generate(3, seed=8, workers=1)
    assert (a_img != c_img).any()
    test_img, _ = builtin.generate(3, seed=7, split="test", workers=1)
    assert (test_img != a_img).any()  # train and test are different draws


def test_chunks_do_not_depend_on_worker_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builtin, "CHUNK", 26)  # several chunks, rendered one by one
    one, _ = builtin.generate(2, seed=1, workers=1)
    chunks = [builtin._render_chunk((1, 0, c, s, s + 26)) for c, s in enumerate(range(0, 52, 26))]
    np.testing.assert_array_equal(one, np.concatenate([c[0] for c in chunks]))


def test_shapes_classes_and_look(tmp_path: Path) -> None:
    d = load_dataset("letters-builtin", "train", root=tmp_path, size=8)
    assert d.images.shape == (26 * 8, 28, 28) and str(d.images.dtype) == "torch.uint8"
    assert d.classes == [chr(65 + i) for i in range(26)]
    assert np.bincount(d.labels.numpy()).tolist() == [8] * 26
    x = d.images.numpy()
    assert (x.reshape(len(x), -1).max(1) == 255).all()  # normalised like EMNIST
    border = np.concatenate([x[:, 0], x[:, -1], x[:, :, 0], x[:, :, -1]], axis=1)
    assert border.mean() < 2  # dark frame: light strokes on dark, centred
    ink = (x > 128).mean()
    assert 0.08 < ink < 0.35, ink  # thick-ish strokes, like EMNIST (about 0.15-0.2)
    test = load_dataset("letters-builtin", "test", root=tmp_path, size=8)
    assert len(test) == 26 * builtin.test_size_for(8)


def test_cache_is_written_once_and_reused(tmp_path: Path) -> None:
    first = load_dataset("letters-builtin", "train", root=tmp_path, size=2, seed=3)
    path = builtin.cache_path(tmp_path, 2, 3)
    assert path.is_file() and f"v{builtin.GENERATOR_VERSION}" in path.name
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    stamp = path.stat().st_mtime_ns
    again = load_dataset("letters-builtin", "train", root=tmp_path, size=2, seed=3)
    assert path.stat().st_mtime_ns == stamp
    assert (first.images == again.images).all()
    path.write_bytes(b"garbage")  # a damaged cache is regenerated, not trusted
    third = load_dataset("letters-builtin", "train", root=tmp_path, size=2, seed=3)
    assert (third.images == first.images).all()


def test_digits_are_real_and_framed() -> None:
    train = load_dataset("digits", "train")
    test = load_dataset("digits", "test")
    assert len(train) + len(test) == 1797 and len(test) == 360
    assert train.classes == [str(i) for i in range(10)] and train.images.shape[1:] == (28, 28)
    assert np.bincount(test.labels.numpy()).min() >= 35  # stratified


def test_registry_and_bad_names(tmp_path: Path) -> None:
    infos = list_datasets(tmp_path)
    assert [i.name for i in infos] == DATASET_NAMES and infos[0].name == "letters-builtin"
    assert get_dataset_info("letters-builtin").available and get_dataset_info("digits").available
    for name in ("mnist", "fashion-mnist", "emnist-balanced"):
        info = get_dataset_info(name, tmp_path)
        assert info.network_only and not info.available and "letters-builtin" in info.how_to_get
    with pytest.raises(ValueError, match="letters-builtin"):
        get_dataset_info("nope")
    with pytest.raises(ValueError, match="split"):
        load_dataset("digits", "validation")
    with pytest.raises(ValueError, match="option"):
        load_dataset("digits", "train", size=3)
    with pytest.raises(FileNotFoundError, match="letters-builtin"):
        load_dataset("mnist", "train", root=tmp_path)  # download=False: never touches the network
