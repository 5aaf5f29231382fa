"""Training speed: quick CNN s/epoch on 26,000 built-in letters, ResNet-18 (28x28) images/s, and the
on-device loader vs a naive torchvision DataLoader + PIL loop (same data, same model, same run).

    .venv/bin/python bench/bench_train.py [--steps 30] [--json out.json]

The GPU section runs only when torch.cuda.is_available(): data resident on the GPU, channels_last,
bf16 autocast; 124,800 images (EMNIST letters' train size) of ResNet-18 at 28x28.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from explorer.config import TrainConfig
from explorer.data import Augment, DataSpec, DeviceLoader, make_splits
from explorer.models import build_letters_model
from explorer.train.loop import device_label, train
from explorer.train.recipes import get_recipe


def step_rate(model_name: str, images: torch.Tensor, labels: torch.Tensor, steps: int, batch: int,
              device: torch.device, amp: bool = False, channels_last: bool = True) -> float:
    """Images/s of `steps` SGD steps through DeviceLoader (after 3 warm-up steps)."""
    model = build_letters_model(model_name).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loader = DeviceLoader(images, labels, batch, device, shuffle=True, seed=0, drop_last=True)
    it = iter(loader)
    done, t0 = 0, 0.0
    for i in range(steps + 3):
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(loader)
            x, y = next(it)
        if i == 3:
            if device.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if i >= 3:
            done += len(y)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return done / (time.perf_counter() - t0)


def loader_ratio(images: torch.Tensor, labels: torch.Tensor, steps: int, batch: int) -> dict[str, float]:
    """Quick CNN with rotate/zoom/shift augmentation: DeviceLoader vs DataLoader + PIL RandomAffine."""
    from torch.utils.data import DataLoader, Dataset
    from torchvision import transforms

    aug = Augment(rotation_deg=10, zoom=0.1, shift=0.1)
    tf = transforms.Compose([transforms.ToPILImage(), transforms.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1)),
                             transforms.ToTensor()])

    class Letters(Dataset):
        def __len__(self) -> int:
            return len(labels)

        def __getitem__(self, i: int):
            return tf(images[i].numpy()), labels[i]

    def run(batches) -> float:
        model = build_letters_model("small_cnn").to(memory_format=torch.channels_last)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        n, t0 = 0, time.perf_counter()
        for i, (x, y) in enumerate(batches):
            if i == steps:
                break
            loss = F.cross_entropy(model(x.contiguous(memory_format=torch.channels_last)), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            n += len(y)
        return n / (time.perf_counter() - t0)

    fast = run(DeviceLoader(images, labels, batch, "cpu", shuffle=True, augment=aug, seed=0))
    naive = run(DataLoader(Letters(), batch_size=batch, shuffle=True, num_workers=0))
    return {"device_loader_img_s": fast, "naive_dataloader_pil_img_s": naive, "ratio": fast / naive}


def main() -> None:
    """Run the benchmark and print (and optionally save) the numbers."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--json")
    args = ap.parse_args()
    out: dict[str, object] = {"torch": torch.__version__, "threads": torch.get_num_threads(), "device": device_label("cpu")}

    # 1. Quick CNN: one real epoch of 26,000 built-in letters through the training loop (no validation split).
    cfg = get_recipe("quick").replace(epochs=1, data={**TrainConfig().data, "val_fraction": 0.0}, device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        run = train(cfg, root=tmp)
        h, metrics = run.history()[0], run.metrics() or {}
    out["quick_cnn"] = {"images": 26000, "s_per_epoch": h["epoch_time"], "images_per_s": h["images_per_s"],
                        "test_acc_after_1_epoch": metrics.get("test_acc", float("nan"))}
    print(f"quick CNN: 1 epoch of 26,000 letters in {h['epoch_time']:.1f} s ({h['images_per_s']:,.0f} img/s); "
          f"test acc {out['quick_cnn']['test_acc_after_1_epoch']:.3f}")

    splits = make_splits(DataSpec(val_fraction=0.0))
    x, y = splits.train.images, splits.train.labels
    cpu = torch.device("cpu")
    r18 = step_rate("resnet18", x, y, max(5, args.steps // 3), 128, cpu)
    out["resnet18_28x28_cpu_img_s"] = r18
    print(f"ResNet-18 28x28 on CPU: {r18:,.0f} img/s (batch 128, channels_last)")

    ratio = loader_ratio(x, y, args.steps, 128)
    out["loader"] = ratio
    print(f"DeviceLoader {ratio['device_loader_img_s']:,.0f} img/s vs DataLoader+PIL {ratio['naive_dataloader_pil_img_s']:,.0f} "
          f"img/s: {ratio['ratio']:.2f}x (quick CNN, augmentation on, same run)")

    if torch.cuda.is_available():
        gpu = torch.device("cuda")
        big_x = x.repeat(int(np.ceil(124_800 / len(x))), 1, 1)[:124_800]
        big_y = y.repeat(int(np.ceil(124_800 / len(y))))[:124_800]
        ips = step_rate("resnet18", big_x, big_y, 200, 512, gpu, amp=True)
        out["gpu"] = {"device": device_label(gpu), "resnet18_28x28_img_s": ips, "s_per_epoch_124800": 124_800 / ips}
        print(f"GPU {device_label(gpu)}: ResNet-18 28x28 {ips:,.0f} img/s, {124_800 / ips:.1f} s/epoch of 124,800")
    else:
        out["gpu"] = "not measured: no CUDA device in this run"
        print("GPU: not measured (no CUDA device)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=2)


if __name__ == "__main__":
    main()
