"""Splits (seeded, stratified, recorded), DeviceLoader and batched augmentation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from explorer.data import Augment, DataSpec, DeviceLoader, augment_batch, make_splits


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


def test_splits_are_stratified_seeded_and_recorded(root: Path) -> None:
    spec = DataSpec(root=str(root), size=10, seed=1, val_fraction=0.2)
    s = make_splits(spec)
    assert s.record["counts"] == {"train": 208, "val": 52, "test": 26 * 10}
    assert np.bincount(s.val.labels.numpy()).tolist() == [2] * 26  # stratified
    assert set(s.train.indices.tolist()).isdisjoint(s.val.indices.tolist())
    assert sorted(s.train.indices.tolist() + s.val.indices.tolist()) == list(range(260))
    again = make_splits(DataSpec.from_dict(s.record["spec"]))
    assert again.record == s.record and (again.val.images == s.val.images).all()
    other = make_splits(DataSpec(root=str(root), size=10, seed=2, val_fraction=0.2))
    assert other.record["val_indices_sha256"] != s.record["val_indices_sha256"]
    none = make_splits(DataSpec(root=str(root), size=10, val_fraction=0.0))
    assert len(none.val) == 0 and len(none.train) == 260


def test_dataspec_round_trip_and_validation() -> None:
    spec = DataSpec("digits", seed=3, val_fraction=0.25)
    assert DataSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(ValueError, match="val_fraction"):
        DataSpec(val_fraction=1.0)
    with pytest.raises(ValueError, match="unknown dataset"):
        DataSpec("letters")
    with pytest.raises(ValueError, match="unknown DataSpec keys"):
        DataSpec.from_dict({"name": "digits", "colour": 1})


def test_device_loader_epochs() -> None:
    images = torch.arange(100, dtype=torch.uint8).view(100, 1, 1).expand(100, 28, 28).contiguous()
    labels = torch.arange(100) % 7
    dl = DeviceLoader(images, labels, batch_size=32, seed=5)
    assert len(dl) == 4 and len(DeviceLoader(images, labels, 32, drop_last=True)) == 3
    batches = list(dl)
    x, y = batches[0]
    assert x.shape == (32, 1, 28, 28) and x.dtype == torch.float32 and y.dtype == torch.int64
    seen = torch.cat([b[0][:, 0, 0, 0] for b in batches]) * 255
    assert sorted(seen.round().long().tolist()) == list(range(100))  # every sample once per epoch
    assert torch.equal(torch.cat([b[1] for b in batches]), (seen.round().long() % 7))  # labels follow images
    second = torch.cat([b[0][:, 0, 0, 0] for b in dl])
    assert not torch.equal(second * 255, seen)  # a new order each epoch
    dl.set_epoch(0)
    assert torch.equal(torch.cat([b[0][:, 0, 0, 0] for b in dl]) * 255, seen)  # reproducible
    plain = DeviceLoader(images.numpy(), labels.numpy(), 100, shuffle=False)
    assert torch.equal(next(iter(plain))[1], labels)


def test_augmentation_is_seeded_and_keeps_the_letter(root: Path) -> None:
    s = make_splits(DataSpec(root=str(root), size=10, val_fraction=0.0))
    x = s.train.images[:64].float().div(255).unsqueeze(1)
    aug = Augment(rotation_deg=15, zoom=0.1, shift=0.1, elastic=1.5, shear_deg=5)
    a = augment_batch(x, aug, torch.Generator().manual_seed(0))
    b = augment_batch(x, aug, torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and not torch.equal(a, x)
    assert a.shape == x.shape and 0 <= a.min() and a.max() <= 1
    mass_ratio = a.sum((1, 2, 3)) / x.sum((1, 2, 3))
    assert ((mass_ratio > 0.6) & (mass_ratio < 1.5)).all()  # the letter stays in the frame
    ident = augment_batch(x, Augment(0, 0, 0))
    assert torch.equal(ident, x)
    flipped = augment_batch(x, Augment(0, 0, 0, hflip=1.0), torch.Generator().manual_seed(0))
    assert torch.allclose(flipped, x.flip(-1), atol=1e-5)


def test_augment_dict_and_validation() -> None:
    aug = Augment(rotation_deg=5, elastic=1.0)
    assert Augment.from_dict(aug.to_dict()) == aug
    assert Augment().hflip == 0.0  # no horizontal flip for letters by default
    with pytest.raises(ValueError, match="unknown Augment keys"):
        Augment.from_dict({"flip": 1})
    with pytest.raises(ValueError, match="zoom"):
        Augment(zoom=1.5)


def test_loader_with_augmentation_runs_on_device(root: Path) -> None:
    s = make_splits(DataSpec(root=str(root), size=10))
    dl = DeviceLoader(s.train.images, s.train.labels, 50, augment=Augment(), seed=1)
    xs = [x for x, _ in dl]
    assert sum(len(x) for x in xs) == len(s.train) and xs[0].device.type == "cpu"
    assert dl.images.dtype == torch.uint8  # the dataset stays uint8 on the device
