"""The GPU path on a real CUDA device: mixed precision, channels_last, compile, OOM, the loader,
Grad-CAM, torchrun with nccl, and resuming a GPU run on the CPU and back.

Every test is marked `gpu` and skips with the doctor's reason when no CUDA device is usable:
    .venv/bin/python -m pytest -m gpu tests/test_gpu.py
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from explorer.config import TrainConfig
from explorer.data import Augment, DeviceLoader
from explorer.doctor.core import why_no_gpu
from explorer.models import build_letters_model
from explorer.runs import STOP_FILE, create_run, list_runs, open_run
from explorer.train.job import train

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason=why_no_gpu() or "no CUDA GPU")]
SMALL = {"name": "letters-builtin", "size": 200, "val_fraction": 0.1}  # 5,200 training letters


@pytest.fixture(autouse=True)
def _exact_math():
    """No TF32 in comparisons between devices and layouts (the loop turns it on for speed)."""
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def _cfg(**kw) -> TrainConfig:
    base = {"model": "small_cnn", "data": dict(SMALL), "epochs": 3, "batch_size": 128, "lr": 0.05, "device": "cuda",
            "label_smoothing": 0.05}
    return TrainConfig.from_dict({**base, **kw})


def _letters(n: int = 512) -> tuple[torch.Tensor, torch.Tensor]:
    from explorer.data import DataSpec, make_splits

    test = make_splits(DataSpec(size=20, val_fraction=0.0)).test
    return test.images[:n], test.labels[:n]


def test_bf16_and_fp16_reach_the_fp32_band(tmp_path):
    acc = {}
    for amp in ("none", "bf16", "fp16"):
        if amp == "bf16" and torch.cuda.get_device_capability()[0] < 8:
            continue  # the doctor says "bf16 needs compute capability 8.0"
        run = train(_cfg(amp=amp), root=tmp_path)
        assert run.status["status"] == "completed", run.status.get("error")
        assert run.status["gpu_mem_peak_mb"] > 0 and run.status["gpu_mem_now_mb"] >= 0
        acc[amp] = run.metrics()["test_acc"]
    assert acc["none"] > 0.5, acc
    assert all(abs(a - acc["none"]) < 0.05 for a in acc.values()), acc


@torch.no_grad()
def test_channels_last_and_compile_predict_like_plain():
    torch.manual_seed(0)
    plain = build_letters_model("small_cnn").cuda().eval()
    cl = copy.deepcopy(plain).to(memory_format=torch.channels_last)
    images, _ = _letters()
    x = images.float().div(255).unsqueeze(1).cuda()
    ref = plain(x).softmax(1)
    out_cl = cl(x.contiguous(memory_format=torch.channels_last)).softmax(1)
    torch.testing.assert_close(out_cl, ref, atol=1e-4, rtol=1e-3)
    compiled = torch.compile(copy.deepcopy(plain))
    out_c = compiled(x).softmax(1)
    torch.testing.assert_close(out_c, ref, atol=1e-4, rtol=1e-3)
    assert (out_c.argmax(1) == ref.argmax(1)).float().mean() > 0.99


def test_oom_fails_the_run_with_batch_hint_and_process_lives(tmp_path):
    total = torch.cuda.get_device_properties(0).total_memory
    torch.cuda.empty_cache()
    torch.cuda.set_per_process_memory_fraction(256 * 2**20 / total)
    try:
        run = train(_cfg(model="resnet18", batch_size=4096, data={**SMALL, "size": 200}, epochs=1), root=tmp_path)
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
        torch.cuda.empty_cache()
    st = run.status
    assert st["status"] == "failed"
    assert "out of memory" in st["error"] and "batch size 2048" in st["error"]
    assert float(torch.ones(4, device="cuda").sum()) == 4.0  # this process (the app's) is alive and can use the GPU


def test_device_loader_gpu_batches_equal_cpu():
    images, labels = _letters()
    aug = Augment(rotation_deg=10, zoom=0.1, shift=0.1)
    for augment in (None, aug):
        cpu = list(DeviceLoader(images, labels, 64, "cpu", shuffle=True, augment=augment, seed=3))
        gpu = list(DeviceLoader(images, labels, 64, "cuda", shuffle=True, augment=augment, seed=3))
        assert len(cpu) == len(gpu)
        for (xc, yc), (xg, yg) in zip(cpu, gpu, strict=True):
            assert torch.equal(yc, yg.cpu())
            torch.testing.assert_close(xg.cpu(), xc, atol=1e-4, rtol=0)


def test_gradcam_gpu_equals_cpu():
    from explorer.explain.core import explain

    torch.manual_seed(0)
    model = build_letters_model("small_cnn").eval()
    images, _ = _letters(4)
    for img in images:
        x = img.float().div(255).unsqueeze(0)
        on_cpu = explain(model, x, "gradcam")
        on_gpu = explain(copy.deepcopy(model).cuda(), x, "gradcam")
        assert on_gpu.target == on_cpu.target
        np.testing.assert_allclose(on_gpu.heatmap, on_cpu.heatmap, atol=1e-3)


def test_torchrun_nccl_world_size_1(tmp_path):
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or shutil.which("torchrun")
    cmd = [torchrun or sys.executable, "--standalone", "--nproc_per_node", "1", "-m", "explorer", "train",
           "--model", "small_cnn", "--size", "10", "--epochs", "1", "--batch-size", "32", "--device", "cuda",
           "--runs", str(tmp_path), "--no-progress", "--no-estimate"]
    if torchrun is None:
        cmd[1:1] = ["-m", "torch.distributed.run"]
    proc = subprocess.run(cmd, cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [info] = list_runs(tmp_path)
    st = open_run(info.path).status
    assert info.status == "completed" and st["world_size"] == 1 and st["device"].startswith("cuda")


def _one_epoch(run_path: Path, device: str) -> str:
    """Continue the run on `device` for one epoch: a STOP file is written when that epoch ends."""
    run = open_run(run_path)
    run.update_config(train={**run.config["train"], "device": device})

    def stop_after_epoch(event: str, info: dict) -> None:
        if event == "epoch_end":
            (run_path / STOP_FILE).touch()

    return train(TrainConfig(), run_dir=run_path, callback=stop_after_epoch).status["status"]


def test_resume_gpu_run_on_cpu_and_back(tmp_path):
    cfg = _cfg(epochs=3, data={**SMALL, "size": 20}, schedule="cosine")
    run = create_run(cfg, tmp_path)
    assert _one_epoch(run.path, "cuda") == "stopped"
    assert _one_epoch(run.path, "cpu") == "stopped"
    final = open_run(run.path)
    final.update_config(train={**final.config["train"], "device": "cuda"})
    done = train(TrainConfig(), run_dir=run.path)
    assert done.status["status"] == "completed" and done.status["device"].startswith("cuda")
    hist = done.history()
    assert [h["epoch"] for h in hist] == [1, 2, 3]
    assert all(np.isfinite(h["train_loss"]) for h in hist) and hist[-1]["train_loss"] < hist[0]["train_loss"]
