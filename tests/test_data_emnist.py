"""EMNIST from files: orientation, label mapping, layouts, checksums, corrupt files, no network."""

from __future__ import annotations

import gzip
import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pytest

from explorer.data import emnist as em
from explorer.data import get_dataset_info, load_dataset


def _upright_letters(n: int) -> tuple[np.ndarray, np.ndarray]:
    """n 28x28 images with an asymmetric mark (a bar on the top rows, a dot at the left) and labels 1..26."""
    images = np.zeros((n, 28, 28), np.uint8)
    labels = (np.arange(n) % 26 + 1).astype(np.uint8)
    for i in range(n):
        images[i, 2:4, 4 : 4 + labels[i] % 20 + 3] = 255  # horizontal bar at the top
        images[i, 20, 1] = 128 + i % 100  # a marker pixel: row 20, column 1
    return images, labels


def _idx(array: np.ndarray, kind: str) -> bytes:
    if kind == "images":
        header = (0x0803).to_bytes(4, "big") + len(array).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    else:
        header = (0x0801).to_bytes(4, "big") + len(array).to_bytes(4, "big")
    return header + array.astype(np.uint8).tobytes()


def write_emnist(folder: Path, n_train: int = 52, n_test: int = 26, gz: bool = False) -> dict[str, np.ndarray]:
    """Write EMNIST-letters idx files as NIST does: images transposed, labels 1..26."""
    folder.mkdir(parents=True, exist_ok=True)
    truth = {}
    for part, n in (("train", n_train), ("test", n_test)):
        images, labels = _upright_letters(n)
        truth[part] = images
        truth[part + "_labels"] = labels
        for kind, arr in (("images", images.transpose(0, 2, 1)), ("labels", labels)):
            name = em.idx_name("letters", part, kind)
            data = _idx(arr, kind)
            if gz:
                (folder / (name + ".gz")).write_bytes(gzip.compress(data))
            else:
                (folder / name).write_bytes(data)
    return truth


@pytest.mark.parametrize("layout", ["torchvision", "flat-gz"])
def test_orientation_and_label_mapping(tmp_path: Path, layout: str) -> None:
    if layout == "torchvision":
        truth = write_emnist(tmp_path / "root" / "EMNIST" / "raw")
        kwargs = {"root": tmp_path / "root"}
    else:
        truth = write_emnist(tmp_path / "mine" / "gzip", gz=True)
        kwargs = {"root": tmp_path / "root", "path": tmp_path / "mine"}
    for part in ("train", "test"):
        d = load_dataset("emnist-letters", part, strict=False, **kwargs)
        assert d.images.dtype.is_floating_point is False and d.images.shape == (len(truth[part]), 28, 28)
        np.testing.assert_array_equal(d.images.numpy(), truth[part])  # upright again
        assert d.images[0, 20, 1] > 0 and d.images[0, 1, 20] == 0  # the marker is at row 20, column 1
        np.testing.assert_array_equal(d.labels.numpy(), truth[part + "_labels"].astype(np.int64) - 1)
        assert d.labels.min() == 0 and d.labels.max() == 25
        assert d.classes == [chr(ord("A") + i) for i in range(26)] and d.classes[int(d.labels[0])] == "A"


def test_official_counts_are_checked(tmp_path: Path) -> None:
    write_emnist(tmp_path / "EMNIST" / "raw")
    with pytest.raises(em.ChecksumError, match=r"expected 124,800"):
        load_dataset("emnist-letters", "train", root=tmp_path)


def test_truncated_idx_names_file_and_expected_size(tmp_path: Path) -> None:
    raw = tmp_path / "EMNIST" / "raw"
    write_emnist(raw)
    f = raw / em.idx_name("letters", "train", "images")
    f.write_bytes(f.read_bytes()[:-100])
    with pytest.raises(em.ChecksumError) as err:
        load_dataset("emnist-letters", "train", root=tmp_path, strict=False)
    assert str(f) in str(err.value) and f"expected {16 + 52 * 784:,}" in str(err.value)


def test_labels_out_of_range_are_refused(tmp_path: Path) -> None:
    raw = tmp_path / "EMNIST" / "raw"
    write_emnist(raw)
    (raw / em.idx_name("letters", "test", "labels")).write_bytes(_idx(np.zeros(26, np.uint8), "labels"))
    with pytest.raises(em.ChecksumError, match="expected 1..26"):
        load_dataset("emnist-letters", "test", root=tmp_path, strict=False)


def _fake_zip(path: Path, corrupt_member: bool = False) -> Path:
    src = path.parent / "src"
    write_emnist(src)
    with zipfile.ZipFile(path, "w") as zf:
        for f in sorted(src.iterdir()):
            data = gzip.compress(f.read_bytes())
            zf.writestr(f"gzip/{f.name}.gz", data[:-20] if corrupt_member else data)
    return path


def test_zip_md5_mismatch_names_file_and_expected_md5_and_leaves_no_cache(tmp_path: Path) -> None:
    zip_path = _fake_zip(tmp_path / "gzip.zip")
    root = tmp_path / "root"
    with pytest.raises(em.ChecksumError) as err:
        load_dataset("emnist-letters", "train", root=root, path=zip_path)
    msg = str(err.value)
    assert str(zip_path) in msg and em.EMNIST_ZIP_MD5 in msg
    assert not (root / "EMNIST").exists()


def test_zip_extraction_with_its_own_md5(tmp_path: Path) -> None:
    zip_path = _fake_zip(tmp_path / "gzip.zip")
    md5 = hashlib.md5(zip_path.read_bytes()).hexdigest()
    raw = em.extract_zip(zip_path, tmp_path / "root", expected_md5=md5)
    assert sorted(p.name for p in raw.iterdir()) == sorted(
        em.idx_name("letters", part, kind) for part in ("train", "test") for kind in ("images", "labels")
    )
    d = load_dataset("emnist-letters", "test", root=tmp_path / "root", strict=False)
    assert len(d) == 26 and get_dataset_info("emnist-letters", tmp_path / "root").available


def test_corrupt_zip_member_leaves_nothing_half_written(tmp_path: Path) -> None:
    zip_path = _fake_zip(tmp_path / "gzip.zip", corrupt_member=True)
    root = tmp_path / "root"
    with pytest.raises(em.ChecksumError, match="gzip.zip"):
        em.extract_zip(zip_path, root, verify_md5=False)
    leftovers = list((root / "EMNIST" / "raw").iterdir()) if (root / "EMNIST" / "raw").exists() else []
    assert not [p for p in leftovers if p.name.startswith(".") or p.suffix == ".tmp"]
    assert not leftovers  # the first member already fails: nothing written


def test_absent_emnist_explains_how_to_get_it(tmp_path: Path) -> None:
    info = get_dataset_info("emnist-letters", tmp_path)
    assert not info.available
    assert em.EMNIST_URL in info.how_to_get and "letters-builtin" in info.how_to_get
    with pytest.raises(FileNotFoundError, match="letters-builtin") as err:
        load_dataset("emnist-letters", "train", root=tmp_path)
    assert str(tmp_path / "gzip.zip") in str(err.value)


def test_download_without_network_fails_clearly(tmp_path: Path) -> None:
    # 127.0.0.1:9 (discard) refuses at once: the download path runs without touching the internet.
    with pytest.raises(FileNotFoundError) as err:
        em.download_emnist_zip(tmp_path, url="http://127.0.0.1:9/gzip.zip")
    msg = str(err.value)
    assert "http://127.0.0.1:9/gzip.zip" in msg and str(tmp_path / "gzip.zip") in msg and "letters-builtin" in msg
    assert not (tmp_path / "gzip.zip").exists()
