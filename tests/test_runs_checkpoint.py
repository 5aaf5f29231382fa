"""A checkpoint is one unit: a writer killed at any instant of save_checkpoint leaves files from which
load_checkpoint gives either the previous or the new checkpoint, never weights of one epoch with the
optimizer of another. The crash states are built from real save_checkpoint outputs."""

from __future__ import annotations

import shutil

import pytest
import torch

from explorer.config import TrainConfig
from explorer.runs import create_run

CFG = TrainConfig.from_dict({"model": "small_cnn", "data": {"name": "letters-builtin", "size": 10}})
NAMES = ("weights_last.safetensors", "weights_best.safetensors", "optimizer_last.pt")


def _pending(name: str) -> str:
    stem, _, suffix = name.partition(".")
    return f"{stem}.next.{suffix}"


def _save(run, epoch: int, is_best: bool = True) -> None:
    weights = {"w": torch.full((3,), float(epoch))}
    run.save_checkpoint(weights, {"state": {}, "param_groups": [{"lr": 0.1 * epoch, "params": [0]}]},
                        {"epoch": epoch, "stage": 0, "best_epoch": epoch if is_best else 1},
                        {"epoch": epoch}, is_best=is_best)


@pytest.fixture()
def runs(tmp_path):
    """(a run whose checkpoint is epoch 1, a folder holding the same run's whole epoch-2 files)."""
    run = create_run(CFG, tmp_path / "a")
    _save(run, 1)
    newer = create_run(CFG, tmp_path / "b")
    _save(newer, 2)
    return run, newer.path


def _state(run, newer, pending: tuple[str, ...], renamed: tuple[str, ...]) -> None:
    for name in pending:
        shutil.copy(newer / name, run.path / _pending(name))
    for name in renamed:
        shutil.copy(newer / name, run.path / name)


# Every instant of save_checkpoint(epoch 2, is_best): files written under pending names one by one, then
# renamed into place one by one (best, last, optimizer).
CRASHES = [
    ((), (), 1),
    (("weights_last.safetensors",), (), 1),
    (("weights_last.safetensors", "weights_best.safetensors"), (), 1),
    (NAMES, (), 2),
    (NAMES[:1] + NAMES[2:], NAMES[1:2], 2),
    (NAMES[2:], NAMES[:2], 2),
    ((), NAMES, 2),
]


@pytest.mark.parametrize(("pending", "renamed", "epoch"), CRASHES)
def test_kill_at_any_instant_loads_one_consistent_checkpoint(runs, pending, renamed, epoch):
    run, newer = runs
    _state(run, newer, pending, renamed)
    ckpt = run.load_checkpoint()
    assert ckpt.epoch == epoch and ckpt.loop["epoch"] == epoch and ckpt.history_row == {"epoch": epoch}
    assert torch.equal(ckpt.weights["w"], torch.full((3,), float(epoch)))
    assert ckpt.optimizer["param_groups"][0]["lr"] == pytest.approx(0.1 * epoch)
    # The files are settled: the final names hold that checkpoint, no pending file is left.
    assert not list(run.path.glob("*.next.*"))
    assert torch.equal(run.read_weights("best")["w"], torch.full((3,), float(epoch)))
    assert run.load_checkpoint().epoch == epoch


def test_best_weights_stay_with_their_epoch(tmp_path):
    run = create_run(CFG, tmp_path)
    _save(run, 1)
    _save(run, 2, is_best=False)
    ckpt = run.load_checkpoint()
    assert ckpt.epoch == 2 and ckpt.loop["best_epoch"] == 1
    assert torch.equal(run.read_weights("best")["w"], torch.full((3,), 1.0))
    assert torch.equal(run.read_weights("last")["w"], torch.full((3,), 2.0))


def test_no_checkpoint_and_half_written_first_checkpoint(tmp_path):
    run = create_run(CFG, tmp_path)
    assert run.load_checkpoint() is None and not run.has_checkpoint()
    newer = create_run(CFG, tmp_path / "b")
    _save(newer, 1)
    shutil.copy(newer.path / "weights_last.safetensors", run.path / "weights_last.next.safetensors")
    assert run.load_checkpoint() is None  # weights without optimizer state: nothing to resume from
