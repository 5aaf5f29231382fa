"""EMNIST from files on disk or, with a network, a download (MNIST/Fashion-MNIST: torchvision_sets.py).

Sources accepted for EMNIST, in this order, under a given path (a file or a folder):
* the official zip ``gzip.zip`` (https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip);
* its extracted ``gzip/`` folder of ``emnist-<split>-<train|test>-<images|labels>-idx?-ubyte.gz``;
* the decompressed idx files, e.g. torchvision's layout ``<root>/EMNIST/raw/``.

What is verified (the NIST page publishes one md5, for the zip, and none per member):
* the zip: its md5 must equal ``58c8d27c78d21e728a6bc7b3cc06412e`` (the value torchvision checks),
  and every member's CRC-32 (checked by zipfile while reading);
* a ``.gz``: its CRC-32 and length trailer (checked by gzip while reading);
* every idx file: the magic number (0x0803 images / 0x0801 labels), 28x28 images, the exact byte
  size 16 + N*784 (images) / 8 + N (labels) for the N in its header, image and label counts
  equal, labels in range, and -- for the official files (``strict=True``) -- N equal to the
  published count (letters: 124,800 train / 20,800 test).
A zip is extracted into torchvision's layout ``<data root>/EMNIST/raw/`` with atomic writes, so
an interrupted or failed extraction leaves nothing half-written.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import string
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from explorer.data.registry import DatasetCard, Loader, register_dataset
from explorer.io import atomic_path

if TYPE_CHECKING:  # numpy loads when data is made, so listing datasets stays light
    import numpy as np

EMNIST_URL = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
EMNIST_ZIP_MD5 = "58c8d27c78d21e728a6bc7b3cc06412e"
EMNIST_ZIP_NAME = "gzip.zip"
EMNIST_ENV = "EXPLORER_EMNIST"
IMAGE_MAGIC, LABEL_MAGIC = 0x00000803, 0x00000801
# Published sample counts (Cohen et al. 2017, table II), split -> (train, test, classes).
EMNIST_SPLITS: dict[str, tuple[int, int, list[str]]] = {
    "letters": (124_800, 20_800, list(string.ascii_uppercase)),
    "balanced": (112_800, 18_800, list(string.digits + string.ascii_uppercase + "abdefghnqrt")),
    "byclass": (697_932, 116_323, list(string.digits + string.ascii_uppercase + string.ascii_lowercase)),
    "bymerge": (697_932, 116_323, list(string.digits + string.ascii_uppercase + "abdefghnqrt")),
    "digits": (240_000, 40_000, list(string.digits)),
    "mnist": (60_000, 10_000, list(string.digits)),
}


class ChecksumError(ValueError):
    """A data file does not match what was expected; the message names the file and the expected value."""


def how_to_get_emnist(root: str | os.PathLike) -> str:
    """Instructions for getting EMNIST onto a machine without (or with) a network."""
    raw = Path(root) / "EMNIST" / "raw"
    return (
        f"Download the official EMNIST zip ({EMNIST_URL}, 562 MB, md5 {EMNIST_ZIP_MD5}) on a machine with "
        f"a network and copy it to {Path(root) / EMNIST_ZIP_NAME}, or give its path (or a folder with the "
        f"extracted gzip/*.gz or idx files, e.g. torchvision's {raw}) in the UI, with "
        f"`python -m explorer data prepare emnist-letters --root PATH`, or in the environment variable "
        f"{EMNIST_ENV}. Until then, use the built-in offline datasets: letters-builtin or digits."
    )


def md5_file(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    """Hex md5 of a file, read in chunks."""
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def idx_name(split: str, part: str, kind: str) -> str:
    """File name of an EMNIST idx file, e.g. emnist-letters-train-images-idx3-ubyte."""
    return f"emnist-{split}-{part}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"


def parse_idx(data: bytes, name: str, kind: str) -> np.ndarray:
    """Parse idx bytes (images: uint8 (N, 28, 28); labels: uint8 (N,)) with exact size checks."""
    import numpy as np
    if len(data) < 8:
        raise ChecksumError(f"{name}: truncated idx file ({len(data)} bytes), expected an idx header.")
    magic, count = int.from_bytes(data[0:4], "big"), int.from_bytes(data[4:8], "big")
    if kind == "images":
        if magic != IMAGE_MAGIC:
            raise ChecksumError(f"{name}: magic number {magic:#010x}, expected {IMAGE_MAGIC:#010x} (idx3 uint8 images).")
        rows, cols = int.from_bytes(data[8:12], "big"), int.from_bytes(data[12:16], "big")
        if (rows, cols) != (28, 28):
            raise ChecksumError(f"{name}: images are {rows}x{cols}, expected 28x28.")
        expected = 16 + count * 28 * 28
        if len(data) != expected:
            raise ChecksumError(
                f"{name}: {len(data):,} bytes, expected {expected:,} (16-byte header + {count:,} images of 784 bytes); "
                "the file is truncated or corrupt -- copy it again."
            )
        return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(count, 28, 28)
    if magic != LABEL_MAGIC:
        raise ChecksumError(f"{name}: magic number {magic:#010x}, expected {LABEL_MAGIC:#010x} (idx1 uint8 labels).")
    expected = 8 + count
    if len(data) != expected:
        raise ChecksumError(
            f"{name}: {len(data):,} bytes, expected {expected:,} (8-byte header + {count:,} labels); "
            "the file is truncated or corrupt -- copy it again."
        )
    return np.frombuffer(data, dtype=np.uint8, offset=8)


def _read_bytes(path: Path) -> bytes:
    """Read a file, decompressing .gz (whose CRC and length gzip verifies)."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ChecksumError(f"{path}: cannot be read or decompressed ({exc}); the file is corrupt -- copy it again.") from exc


def find_files(split: str, part: str, search: list[Path]) -> tuple[Path, Path] | None:
    """Find the (images, labels) idx files (plain or .gz) of a split/part in the usual layouts."""
    for base in search:
        for folder in (base, base / "gzip", base / "EMNIST" / "raw", base / "raw", base / "EMNIST" / "raw" / "gzip"):
            found = []
            for kind in ("images", "labels"):
                name = idx_name(split, part, kind)
                hit = next((folder / n for n in (name, name + ".gz") if (folder / n).is_file()), None)
                found.append(hit)
            if all(found):
                return found[0], found[1]
    return None


def find_zip(search: list[Path]) -> Path | None:
    """Find the official EMNIST zip: a path to it, or gzip.zip / emnist.zip in a searched folder."""
    for base in search:
        if base.is_file() and base.suffix == ".zip":
            return base
        for name in (EMNIST_ZIP_NAME, "emnist.zip", "EMNIST/raw/gzip.zip"):
            if (base / name).is_file():
                return base / name
    return None


def search_paths(root: str | os.PathLike, path: str | os.PathLike | None = None) -> list[Path]:
    """Where EMNIST is looked for: the given path, $EXPLORER_EMNIST, then the data root."""
    out = [Path(p).expanduser() for p in (path, os.environ.get(EMNIST_ENV)) if p]
    out.append(Path(root))
    return out


def extract_zip(
    zip_path: Path,
    root: str | os.PathLike,
    split: str = "letters",
    verify_md5: bool = True,
    expected_md5: str = EMNIST_ZIP_MD5,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Verify the official zip's md5 and extract one split's idx files into <root>/EMNIST/raw (atomic)."""
    if verify_md5:
        if progress:
            progress(f"checking md5 of {zip_path}")
        actual = md5_file(zip_path)
        if actual != expected_md5:
            raise ChecksumError(
                f"{zip_path}: md5 {actual}, expected {expected_md5} (the official {EMNIST_URL}); the file is "
                "incomplete or not the EMNIST zip -- download it again."
            )
    raw = Path(root) / "EMNIST" / "raw"
    files: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(zip_path) as zf:
            for part in ("train", "test"):
                for kind in ("images", "labels"):
                    name = idx_name(split, part, kind)
                    member = f"gzip/{name}.gz"
                    if progress:
                        progress(f"extracting {member}")
                    try:
                        with zf.open(member) as fh:
                            data = gzip.decompress(fh.read())
                    except KeyError as exc:
                        raise ChecksumError(f"{zip_path}: has no member {member}; it is not the EMNIST zip.") from exc
                    parse_idx(data, f"{zip_path}:{member}", kind)  # validate before writing anything
                    files[name] = data
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise ChecksumError(f"{zip_path}: corrupt zip ({exc}); expected md5 {expected_md5} -- download it again.") from exc
    for name, data in files.items():  # all four verified: write each atomically
        with atomic_path(raw / name) as tmp:
            tmp.write_bytes(data)
    return raw


def read_split(images_path: Path, labels_path: Path, split: str, part: str, strict: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Read and verify one EMNIST split/part -> (uint8 (N, 28, 28) upright, int64 (N,) from 0)."""
    import numpy as np
    images = parse_idx(_read_bytes(images_path), str(images_path), "images")
    labels = parse_idx(_read_bytes(labels_path), str(labels_path), "labels")
    if len(images) != len(labels):
        raise ChecksumError(f"{images_path}: {len(images):,} images but {labels_path} has {len(labels):,} labels.")
    n_train, n_test, classes = EMNIST_SPLITS[split]
    expected_n = n_train if part == "train" else n_test
    if strict and len(images) != expected_n:
        raise ChecksumError(
            f"{images_path}: {len(images):,} samples, expected {expected_n:,} (EMNIST {split} {part}); "
            "the file is not the official one -- copy it again."
        )
    labels = labels.astype(np.int64)
    if split == "letters":
        if labels.size and (labels.min() < 1 or labels.max() > 26):
            raise ChecksumError(f"{labels_path}: labels {labels.min()}..{labels.max()}, expected 1..26 (EMNIST letters).")
        labels = labels - 1
    elif labels.size and labels.max() >= len(classes):
        raise ChecksumError(f"{labels_path}: label {labels.max()} out of range for {len(classes)} classes.")
    # EMNIST stores images transposed (column-major); make them upright.
    upright = np.ascontiguousarray(images.transpose(0, 2, 1))
    return upright, labels


def load_emnist(
    split: str,
    part: str,
    root: str | os.PathLike,
    path: str | os.PathLike | None = None,
    strict: bool = True,
    download: bool = False,
    progress: Callable[[str], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Load an EMNIST split/part from files (idx, .gz or the zip) -> (images, labels, classes)."""
    if split not in EMNIST_SPLITS:
        raise ValueError(f"unknown EMNIST split {split!r}; choose from {sorted(EMNIST_SPLITS)}")
    search = search_paths(root, path)
    if path is not None and not Path(path).expanduser().exists():
        raise FileNotFoundError(f"{path} does not exist. {how_to_get_emnist(root)}")
    files = find_files(split, part, search)
    if files is None:
        zip_path = find_zip(search)
        if zip_path is None and download:
            zip_path = download_emnist_zip(root, progress=progress)
        if zip_path is None:
            where = ", ".join(str(p) for p in search)
            raise FileNotFoundError(f"EMNIST {split} not found (looked in {where}). {how_to_get_emnist(root)}")
        extract_zip(zip_path, root, split, progress=progress)
        files = find_files(split, part, [Path(root)])
        assert files is not None
    images, labels = read_split(files[0], files[1], split, part, strict=strict)
    return images, labels, list(EMNIST_SPLITS[split][2])


def emnist_available(root: str | os.PathLike, split: str = "letters", path: str | os.PathLike | None = None) -> bool:
    """True if EMNIST files for the split (or the zip) are on disk; never touches the network."""
    search = search_paths(root, path)
    return find_files(split, "train", search) is not None or find_zip(search) is not None


def download_emnist_zip(
    root: str | os.PathLike, progress: Callable[[str], None] | None = None, url: str = EMNIST_URL
) -> Path:
    """Download the official zip to <root>/gzip.zip (md5-checked by torchvision); clear error without network."""
    from urllib.error import URLError

    from torchvision.datasets.utils import download_url

    if progress:
        progress(f"downloading {url}")
    Path(root).mkdir(parents=True, exist_ok=True)
    try:
        download_url(url, str(root), filename=EMNIST_ZIP_NAME, md5=EMNIST_ZIP_MD5)
    except (URLError, OSError, RuntimeError) as exc:
        (Path(root) / EMNIST_ZIP_NAME).unlink(missing_ok=True)
        raise FileNotFoundError(f"Could not download {url} ({exc}). {how_to_get_emnist(root)}") from exc
    return Path(root) / EMNIST_ZIP_NAME


def _loader(emnist_split: str) -> Loader:
    """Registry loader for one EMNIST split."""

    def load(split: str, root: Path, path: str | None = None, download: bool = False, strict: bool = True,
             progress: Callable[[str], None] | None = None) -> tuple[np.ndarray, np.ndarray, str]:
        images, labels, _ = load_emnist(emnist_split, split, root, path=path, strict=strict,
                                        download=bool(download), progress=progress)
        return images, labels, EMNIST_URL

    return load


def _register(name: str, emnist_split: str, title: str, description: str, network_only: bool,
              order: int) -> None:
    n_train, n_test, classes = EMNIST_SPLITS[emnist_split]
    register_dataset(DatasetCard(
        name=name, title=title, classes=tuple(classes), source=EMNIST_URL, description=description,
        train_size=n_train, test_size=n_test, offline=False, load=_loader(emnist_split),
        available=lambda root: emnist_available(root, emnist_split), how_to_get=how_to_get_emnist,
        options=frozenset({"path", "download", "strict", "progress"}), network_only=network_only,
        order=order,
    ))  # fmt: skip


_register("emnist-letters", "letters", "EMNIST letters",
          "Handwritten letters from NIST Special Database 19 (Cohen et al. 2017): 26 classes A-Z, upper "
          "and lower case merged, 124,800 train / 20,800 test, 28x28 grayscale. The dataset of the seed "
          "report. Images are stored transposed in the files; they are shown upright here.", False, 1)
for _order, (_name, _split, _title) in enumerate((("emnist-balanced", "balanced", "EMNIST Balanced (47 classes)"),
                                                 ("emnist-byclass", "byclass", "EMNIST ByClass (62 classes)"),
                                                 ("emnist-digits", "digits", "EMNIST Digits")), start=3):
    _n_train, _n_test, _ = EMNIST_SPLITS[_split]
    _register(_name, _split, _title, f"EMNIST {_split}: {_n_train:,} train / {_n_test:,} test, loaded by the "
              "same code as EMNIST letters.", True, _order)
