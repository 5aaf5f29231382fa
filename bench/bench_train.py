"""Training speed: quick CNN s/epoch on 26,000 built-in letters, ResNet-18 (28x28) images/s, and the
on-device loader vs a naive torchvision DataLoader + PIL loop (same data, same model, same run).

    .venv/bin/python bench/bench_train.py [--steps 30] [--json out.json]

The GPU section runs only when torch.cuda.is_available(): data resident on the GPU, channels_last,
bf16 autocast; 124,800 built-in letters (EMNIST letters' train size) of ResNet-18 at 28x28 through the
app's loop, compile off and on, vs a plain DataLoader+PIL fp32 loop; the seed recipes' epoch times.
    .venv/bin/python bench/bench_train.py --gpu-only --json gpu.json   # just the GPU section
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from explorer.config import TrainConfig
from explorer.data import Augment, DataSpec, DeviceLoader, make_splits
from explorer.models import build_letters_model
from explorer.train.job import train
from explorer.train.loop import device_label
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


EMNIST_TRAIN = 124_800  # EMNIST letters' training set: built-in letters at 4,800 per class


def loop_epoch(cfg: TrainConfig) -> dict[str, float]:
    """Two epochs through the app's training loop; the second one's time (compile and cudnn autotune done)."""
    with tempfile.TemporaryDirectory() as tmp:
        run = train(cfg.replace(epochs=2), root=tmp)
        st, hist = run.status, run.history()
    if st["status"] != "completed":
        raise RuntimeError(f"benchmark run {st['status']}: {st.get('error')}")
    return {"s_per_epoch": hist[1]["epoch_time"], "first_epoch_s": hist[0]["epoch_time"],
            "images_per_s": hist[1]["images_per_s"], "gpu_mem_peak_mb": st.get("gpu_mem_peak_mb", 0.0)}


def plain_gpu_loop(images: torch.Tensor, labels: torch.Tensor, steps: int, batch: int, device: str = "cuda") -> float:
    """Images/s of the usual loop: torchvision Dataset + DataLoader (workers) + PIL RandomAffine, fp32, on the GPU."""
    import os

    from torch.utils.data import DataLoader, Dataset
    from torchvision import transforms

    tf = transforms.Compose([transforms.ToPILImage(), transforms.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1)),
                             transforms.ToTensor()])

    class Letters(Dataset):
        def __len__(self) -> int:
            return len(labels)

        def __getitem__(self, i: int):
            return tf(images[i].numpy()), labels[i]

    gpu = torch.device(device)
    sync = torch.cuda.synchronize if gpu.type == "cuda" else (lambda: None)
    model = build_letters_model("resnet18").to(gpu)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    workers = min(8, os.cpu_count() or 1)
    loader = DataLoader(Letters(), batch_size=batch, shuffle=True, num_workers=workers, pin_memory=gpu.type == "cuda",
                        persistent_workers=True, drop_last=True)
    warm = min(5, max(1, len(loader) - steps - 1))
    n, t0 = 0, time.perf_counter()
    for i, (x, y) in enumerate(loader):
        if i == warm:  # after worker start-up and cudnn warm-up
            sync()
            n, t0 = 0, time.perf_counter()
        if i == steps + warm:
            break
        loss = F.cross_entropy(model(x.to(gpu, non_blocking=True)), y.to(gpu, non_blocking=True))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        n += len(y)
    sync()
    return n / (time.perf_counter() - t0)


def gpu_section(args: argparse.Namespace) -> dict[str, object]:
    """ResNet-18 28x28 EMNIST-sized epochs with the app's defaults, compile off/on, vs a plain loop; recipes' epochs.

    With --dry-run the same code runs on the CPU with tiny sizes (no compile), so it is known to work before a GPU
    is lent (scripts/gpu_check.py --dry-run runs it)."""
    from explorer.data import Augment
    from explorer.train.estimate import estimate_epoch_seconds

    dry = args.dry_run
    gpu = torch.device("cpu" if dry else "cuda")
    per_class = 10 if dry else EMNIST_TRAIN // 26
    images = per_class * 26
    batch = 32 if dry else args.gpu_batch
    data = dataclasses.replace(TrainConfig().data, size=per_class, val_fraction=0.0)
    print(f"{'DRY RUN on the CPU, tiny sizes; ' if dry else ''}GPU {device_label(gpu)}: generating/loading {images:,} built-in letters ...")
    splits = make_splits(DataSpec(size=per_class, val_fraction=0.0))
    base = get_recipe("resnet18_scratch").replace(data=data, amp="none" if dry else "bf16", channels_last=True,
                                                  device=gpu.type, augment=Augment(), batch_size=batch)
    res: dict[str, object] = {"device": device_label(gpu), "batch": batch, "images": images, "dry_run": dry}
    for compile_ in ((False,) if dry else (False, True)):
        r = loop_epoch(base.replace(compile=compile_))
        res[f"resnet18_compile_{'on' if compile_ else 'off'}"] = r
        print(f"ResNet-18 28x28, bf16, channels_last, on-device augmentation, compile {'on ' if compile_ else 'off'}: "
              f"{r['s_per_epoch']:.2f} s/epoch ({r['images_per_s']:,.0f} img/s; first epoch {r['first_epoch_s']:.1f} s)")
    if dry:
        res["resnet18_compile_on"] = res["resnet18_compile_off"]
    plain = plain_gpu_loop(splits.train.images, splits.train.labels, 2 if dry else args.plain_steps, batch, gpu.type)
    best = min(res["resnet18_compile_off"]["s_per_epoch"], res["resnet18_compile_on"]["s_per_epoch"])  # type: ignore[index]
    res["plain_dataloader_pil_fp32"] = {"images_per_s": plain, "s_per_epoch": images / plain}
    res["ratio_vs_plain"] = (images / plain) / best
    print(f"plain Dataset+DataLoader+PIL fp32: {plain:,.0f} img/s = {images / plain:.1f} s/epoch; "
          f"the app's loop is {res['ratio_vs_plain']:.1f}x faster (same run)")
    for recipe in ("densenet121_transfer", "xception_two_stage"):
        cfg = get_recipe(recipe).replace(data=data, device=gpu.type, amp="none" if dry else "bf16")
        cfg = cfg.replace(batch_size=8) if dry else cfg
        steps = 2 if dry else 20
        e = estimate_epoch_seconds(cfg, steps=steps, warmup=1 if dry else 3)
        res[recipe] = {"stages": e.stages, "val_s": e.val_seconds, "estimated_from": f"{steps} timed steps"}
        print(f"{recipe}: " + "; ".join(f"{s['name']} {s['seconds_per_epoch']:.1f} s/epoch" for s in e.stages)
              + f" (estimated from {steps} timed steps{'' if dry else ', bf16'})")
    return res


def main() -> None:
    """Run the benchmark and print (and optionally save) the numbers."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--json")
    ap.add_argument("--gpu-batch", type=int, default=512, help="GPU section: batch size (default 512)")
    ap.add_argument("--gpu-only", action="store_true", help="skip the CPU sections")
    ap.add_argument("--dry-run", action="store_true", help="with --gpu-only: run the GPU section on the CPU, tiny sizes")
    ap.add_argument("--plain-steps", type=int, default=60, help="GPU section: steps of the plain DataLoader loop")
    args = ap.parse_args()
    out: dict[str, object] = {"torch": torch.__version__, "threads": torch.get_num_threads(), "device": device_label("cpu")}

    if args.gpu_only:
        from explorer.doctor.core import why_no_gpu

        out["gpu"] = gpu_section(args) if (torch.cuda.is_available() or args.dry_run) else f"not measured: {why_no_gpu()}"
        print(json.dumps(out["gpu"], indent=2))
        if args.json:
            Path(args.json).write_text(json.dumps(out, indent=2), encoding="utf-8")
        return

    # 1. Quick CNN: one real epoch of 26,000 built-in letters through the training loop (no validation split).
    cfg = get_recipe("quick").replace(epochs=1, data=dataclasses.replace(TrainConfig().data, val_fraction=0.0), device="cpu")
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
        out["gpu"] = gpu_section(args)
    else:
        from explorer.doctor.core import why_no_gpu

        out["gpu"] = f"not measured: {why_no_gpu()}"
        print(f"GPU section skipped: {why_no_gpu()}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=2)


if __name__ == "__main__":
    main()
