"""`torchrun --nproc_per_node 2 -m explorer train` on CPU (gloo): DDP, and only rank 0 writes the run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from explorer.runs import list_runs, open_run

ROOT = Path(__file__).resolve().parents[1]


def test_torchrun_two_cpu_processes(tmp_path):
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or shutil.which("torchrun")
    cmd = [torchrun or sys.executable, "--standalone", "--nproc_per_node", "2", "-m", "explorer", "train",
           "--model", "small_cnn", "--size", "10", "--epochs", "2", "--batch-size", "32", "--runs", str(tmp_path),
           "--no-progress"]
    if torchrun is None:
        cmd[1:1] = ["-m", "torch.distributed.run"]
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [info] = list_runs(tmp_path)
    assert info.status == "completed"
    run = open_run(info.path)
    st = run.status
    assert st["world_size"] == 2
    hist = run.history()
    assert [h["epoch"] for h in hist] == [1, 2]
    assert run.config["data"]["counts"]["train"] == 234
    assert run.predictions() is not None
