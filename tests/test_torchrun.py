"""Training past one process with torchrun (gloo, on the CPU): `--batch-size` is the global batch, so 2
processes of 16 images a step train the same model as 1 process of 32 (LeNet, no BatchNorm or dropout: the
only difference is the order of floating-point sums); a 2-"node" run on localhost (c10d rendezvous) the same;
the recorded validation is the whole split's; a run killed after epoch 1 of 2 processes resumes in 1."""

from __future__ import annotations

import subprocess
import sys

import pytest

from explorer.runs import open_run
from tests.fault_helpers import ROOT, one_run, worker_env
from tests.servers import free_port

pytestmark = pytest.mark.slow  # real torchrun processes: about 10 s a run on 2 idle cores

# 20 letters a class: 468 training images (even: both ranks get 234) and 52 validation images; 2 epochs
ARGS = ["train", "--model", "lenet_keras", "--size", "20", "--batch-size", "32", "--epochs", "2", "--seed", "5",
        "--device", "cpu", "--no-progress", "--lr", "0.05", "--schedule", "cosine"]
# the band of "the same": gradients of 2 x 16 images are summed over two ranks instead of over one batch of 32
LOSS_BAND = 1e-4  # relative, on every epoch's training and validation loss


def _torchrun(*extra: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", *extra, "-m", "explorer"]


def _run(cmd: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory):
    """One letters folder for every run (built by the single-process reference)."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, data):
    """One process, global batch 32."""
    root = tmp_path_factory.mktemp("one")
    p = _run([sys.executable, "-m", "explorer", *ARGS, "--runs", str(root)], worker_env(EXPLORER_DATA=str(data), GLOO_SOCKET_IFNAME="lo"))
    assert p.returncode == 0, p.stderr[-2000:]
    return open_run(one_run(root))


def _same_training(run, reference, world: int) -> None:
    assert run.status["status"] == "completed" and run.status["world_size"] == world
    m = run.metrics()
    assert (m["world_size"], m["backend"], m["batch_per_rank"]) == (world, "gloo", 32 // world)
    assert m["test_size"] == reference.metrics()["test_size"]  # rank 0 tested the whole split
    for a, b in zip(run.history(), reference.history(), strict=True):
        for key in ("train_loss", "val_loss"):
            assert a[key] == pytest.approx(b[key], rel=LOSS_BAND), (key, a["epoch"])
        assert a["val_acc"] == pytest.approx(b["val_acc"], abs=1 / 52 + 1e-9)  # at most one image apart
    assert m["test_acc"] == pytest.approx(reference.metrics()["test_acc"], abs=2 / m["test_size"] + 1e-9)


def test_two_processes_train_what_one_does_with_the_same_global_batch(tmp_path, data, reference):
    cmd = _torchrun("--standalone", "--nproc-per-node", "2") + [*ARGS, "--runs", str(tmp_path)]
    p = _run(cmd, worker_env(EXPLORER_DATA=str(data), GLOO_SOCKET_IFNAME="lo"))
    assert p.returncode == 0, p.stderr[-3000:]
    _same_training(open_run(one_run(tmp_path)), reference, 2)


def test_two_nodes_on_localhost_train_what_one_does(tmp_path, data, reference):
    port = free_port()
    env = worker_env(EXPLORER_DATA=str(data), GLOO_SOCKET_IFNAME="lo")
    nodes = [subprocess.Popen(_torchrun("--nnodes", "2", "--node-rank", str(r), "--nproc-per-node", "1",
                                        "--master-addr", "127.0.0.1", "--master-port", str(port))
                              + [*ARGS, "--runs", str(tmp_path)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in (0, 1)]
    outs = [n.communicate(timeout=600) for n in nodes]
    assert [n.returncode for n in nodes] == [0, 0], [o[1][-2000:] for o in outs]
    _same_training(open_run(one_run(tmp_path)), reference, 2)  # node 1 (rank 1) wrote nothing


def test_a_batch_that_does_not_split_is_refused_before_a_run_exists(tmp_path, data):
    cmd = _torchrun("--standalone", "--nproc-per-node", "2") + [*ARGS, "--batch-size", "33", "--runs", str(tmp_path)]
    p = _run(cmd, worker_env(EXPLORER_DATA=str(data), GLOO_SOCKET_IFNAME="lo"))
    assert p.returncode != 0
    assert "cannot be split evenly over 2 processes; use a multiple of 2 (e.g. 32 or 34)" in p.stderr
    assert f"{ROOT / 'explorer'}" not in p.stderr  # one line from each rank; torchrun's own summary follows
    assert not [d for d in tmp_path.iterdir() if (d / "config.json").exists()]


def test_a_run_killed_under_two_processes_resumes_in_one(tmp_path, data, reference):
    env = worker_env(EXPLORER_DATA=str(data), GLOO_SOCKET_IFNAME="lo", EXPLORER_TEST_KILL_AT="history@1")
    p = _run(_torchrun("--standalone", "--nproc-per-node", "2") + [*ARGS, "--runs", str(tmp_path)], env)
    assert p.returncode != 0  # rank 0 was killed after epoch 1's checkpoint and history row
    run_dir = one_run(tmp_path)
    assert [h["epoch"] for h in open_run(run_dir).history()] == [1]
    q = _run([sys.executable, "-m", "explorer", "runs", "--runs", str(tmp_path), "resume", run_dir.name,
              "--no-progress"], worker_env(EXPLORER_DATA=str(data), GLOO_SOCKET_IFNAME="lo"))
    assert q.returncode == 0, q.stderr[-2000:]
    run = open_run(run_dir)
    assert run.status["status"] == "completed" and [h["epoch"] for h in run.history()] == [1, 2]
    assert run.metrics()["world_size"] == 1
    for a, b in zip(run.history(), reference.history(), strict=True):
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=LOSS_BAND)
