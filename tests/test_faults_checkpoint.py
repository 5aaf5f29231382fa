"""Issue 11 finding 1 (+7: temp files, run creation): a SIGKILL at any write of a checkpoint, then
`runs resume`, gives exactly the uninterrupted result for a fixed seed on the CPU: same history, same
test metrics, bitwise the same weights; and nothing the kill left behind stays."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from explorer.cli import main
from explorer.runs import list_runs, open_run
from tests.fault_helpers import TINY, one_run, run_explorer

ARGS = [*TINY, "--epochs", "2", "--seed", "3"]
# Writes and renames of epoch 2's checkpoint (epoch 2 improves on epoch 1, so weights_best is written too),
# the history row after it, the first checkpoint of the run and the final test files.
KILL_POINTS = [
    "write:weights_last.next.safetensors#2", "ckpt:pending-best@2", "write:optimizer_last.next.pt#2",
    "ckpt:renamed-weights_best@2", "ckpt:renamed-optimizer_last@2", "write:history.jsonl#2",
    "ckpt:pending-optimizer@1", "write:predictions.npz",
]  # one of each kind of moment (a file half-written, staged, half-renamed; the history; the first
# checkpoint; the test files): the seven others of the same kinds held too and were cut for CI's time


def _result(run_dir: Path) -> dict:
    """What must not depend on a crash: history (less timings), test metrics, every weight tensor."""
    run = open_run(run_dir)
    hist = [{k: v for k, v in h.items() if k not in ("wall", "epoch_time", "val_time", "images_per_s")} for h in run.history()]
    metrics = {k: v for k, v in (run.metrics() or {}).items() if not k.endswith(("_s", "per_s"))}  # timings
    weights = {w: load_file(str(run_dir / f"weights_{w}.safetensors")) for w in ("best", "last")}
    return {"history": hist, "metrics": metrics, "weights": weights, "status": run.status["status"]}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    """The uninterrupted run (a worker subprocess, as the killed ones)."""
    root = tmp_path_factory.mktemp("ref")
    proc = run_explorer(["train", "--runs", str(root), *ARGS])
    assert proc.returncode == 0, proc.stderr
    res = _result(one_run(root))
    assert res["metrics"]["best_epoch"] == 2  # so the weights_best kill points are passed through
    return res


@pytest.mark.parametrize("point", KILL_POINTS)
def test_kill_at_checkpoint_write_then_resume_is_exact(point, reference, tmp_path, capsys):
    root = tmp_path / "runs"
    proc = run_explorer(["train", "--runs", str(root), *ARGS], EXPLORER_TEST_KILL_AT=point)
    assert proc.returncode == -signal.SIGKILL, (point, proc.returncode, proc.stderr[-2000:])
    run_dir = one_run(root)
    [info] = list_runs(root)
    assert info.status == "interrupted"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the same CPU maths as the single-threaded workers
    try:
        rc = main(["runs", "--runs", str(root), "resume", run_dir.name, "--no-progress"])
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr()
    assert rc == 0, out.err
    got = _result(run_dir)
    assert got["status"] == "completed"
    assert got["history"] == reference["history"]
    assert got["metrics"] == reference["metrics"]
    for which in ("best", "last"):
        ref_w, got_w = reference["weights"][which], got["weights"][which]
        assert ref_w.keys() == got_w.keys()
        assert all(torch.equal(ref_w[k], got_w[k]) for k in ref_w), f"{which} weights differ after {point}"
    left = sorted(p.name for p in run_dir.iterdir() if p.name.endswith(".tmp") or ".next." in p.name)
    assert left == []  # temp files of the killed worker and pending checkpoint files are gone


def test_kill_during_run_creation_leaves_no_hidden_folder(tmp_path):
    root = tmp_path / "runs"
    proc = run_explorer(["train", "--runs", str(root), *ARGS], EXPLORER_TEST_KILL_AT="create:staged")
    assert proc.returncode == -signal.SIGKILL
    staged = [p for p in root.iterdir() if p.name.startswith(".creating-")]
    assert len(staged) == 1 and (staged[0] / "config.json").is_file()  # whole, but under a temporary name
    assert list_runs(root) == []  # never half a run: nothing listed ...
    assert [p.name for p in root.iterdir() if not p.name.startswith(".locks")] == []  # ... and the leftover is gone


def test_checkpoint_files_record_their_epoch(reference, tmp_path):
    root = tmp_path / "runs"
    proc = run_explorer(["train", "--runs", str(root), *ARGS], EXPLORER_TEST_KILL_AT="ckpt:renamed-weights_last@2")
    assert proc.returncode == -signal.SIGKILL
    run_dir = one_run(root)
    # caught between the renames: weights of epoch 2 in place, the optimizer of epoch 1 beside its pending epoch 2
    assert json.loads((run_dir / "status.json").read_text())["status"] == "running"
    ckpt = open_run(run_dir).load_checkpoint()
    assert ckpt is not None and ckpt.epoch == 2 and ckpt.loop["epoch"] == 2
    assert not (run_dir / "optimizer_last.next.pt").exists()  # the whole pending checkpoint was renamed in
