"""Measured latency per layer: forward (and optionally backward) time of every leaf module.

How it measures: forward pre/post hooks on every leaf module read a clock (time.perf_counter on
CPU; CUDA events on GPU, read after one synchronize per pass, so the GPU queue is never drained
between layers). Backward time of a leaf is the run time of the autograd nodes it created (node
pre-hooks and hooks, found by walking from its output's grad_fn back to its inputs'). After
`warmup` passes, `repeats` timed passes give a median and spread per layer; the whole forward is
also timed alone (no hooks) so the per-layer sum can be checked against it. Hooks are removed in
`finally`. MACs come from explorer.inspect.summarize (the same counts as the Inspect table).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from explorer.inspect.collect import InspectError

MAX_REPEATS = 1000


class DeviceUnavailableError(InspectError):
    """The requested device (e.g. cuda) is not present on this machine."""


@dataclass
class LayerTime:
    """Measured time of one leaf module (seconds, per pass; median and quartiles over repeats)."""

    name: str
    type: str
    block: str
    order: int
    calls: int
    forward_s: float
    forward_p25_s: float
    forward_p75_s: float
    backward_s: float | None
    macs: int

    @property
    def gflops(self) -> float | None:
        """Achieved GFLOP/s of the forward pass (FLOPs = 2 x MACs); None when nothing is counted."""
        if not self.macs or self.forward_s <= 0:
            return None
        return 2 * self.macs / self.forward_s / 1e9


@dataclass
class Profile:
    """Per-layer measured times of one network at one input size on one device."""

    model_name: str
    input_size: tuple[int, int, int]
    batch_size: int
    device: str
    device_name: str
    threads: int
    warmup: int
    repeats: int
    backward: bool
    whole_forward_s: float  # median forward without hooks
    pass_sum_s: float  # median over repeats of the sum of layer times within one pass
    whole_forward_min_s: float  # fastest forward without hooks (least disturbed by other processes)
    pass_sum_min_s: float  # fastest per-pass sum of layer times
    whole_backward_s: float | None
    layers: list[LayerTime]
    macs: int
    elapsed_s: float
    cpu_s: float = 0.0  # CPU time of this process while profiling (all threads)
    created: float = field(default_factory=time.time)
    torch_version: str = torch.__version__

    @property
    def layer_sum_s(self) -> float:
        """Sum of per-layer forward medians."""
        return sum(r.forward_s for r in self.layers)

    @property
    def sum_ratio(self) -> float:
        """Fastest per-pass sum of layer times over the fastest whole forward (1.0 = all time attributed).

        Minimums of per-pass sums, not sums of per-layer medians: on a busy machine each layer's median
        skips the passes where the OS took the CPU away, the whole forward's cannot; the fastest pass of
        each kind is the one least disturbed (as timeit advises).
        """
        return self.pass_sum_min_s / self.whole_forward_min_s if self.whole_forward_min_s > 0 else float("nan")

    def to_dataframe(self) -> pd.DataFrame:
        """One row per leaf layer, in execution order."""
        total = self.layer_sum_s or 1.0
        return pd.DataFrame({
            "Layer": [r.name for r in self.layers],
            "Type": [r.type for r in self.layers],
            "Block": [r.block for r in self.layers],
            "Forward ms": [r.forward_s * 1e3 for r in self.layers],
            "p25 ms": [r.forward_p25_s * 1e3 for r in self.layers],
            "p75 ms": [r.forward_p75_s * 1e3 for r in self.layers],
            "Backward ms": [None if r.backward_s is None else r.backward_s * 1e3 for r in self.layers],
            "Time %": [100 * r.forward_s / total for r in self.layers],
            "MACs": [r.macs for r in self.layers],
            "GFLOP/s": [r.gflops for r in self.layers],
        })  # fmt: skip

    def blocks(self) -> pd.DataFrame:
        """Per block: forward time and MACs, each as a share of the network's total."""
        df = self.to_dataframe()
        g = df.groupby("Block", sort=False).agg(ms=("Forward ms", "sum"), macs=("MACs", "sum")).reset_index()
        t, m = g["ms"].sum(), g["macs"].sum()
        g["Time %"] = 100 * g["ms"] / t if t else 0.0
        g["MACs %"] = 100 * g["macs"] / m if m else 0.0
        return g.rename(columns={"ms": "Forward ms", "macs": "MACs"})

    def to_json(self) -> dict[str, Any]:
        """JSON-ready profile."""
        d = asdict(self)
        d["input_size"] = list(self.input_size)
        d["layer_sum_s"] = self.layer_sum_s
        d["sum_ratio"] = self.sum_ratio
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Profile:
        """Rebuild a profile written by to_json (unknown keys ignored)."""
        layers = [LayerTime(**{k: r[k] for k in LayerTime.__dataclass_fields__}) for r in d["layers"]]
        keys = {k: d[k] for k in cls.__dataclass_fields__ if k in d and k != "layers"}
        keys["input_size"] = tuple(int(v) for v in keys["input_size"])
        return cls(layers=layers, **keys)

    def to_text(self) -> str:
        """A readable table plus totals."""
        df = self.to_dataframe()
        show = df[["Layer", "Type", "Forward ms", "p25 ms", "p75 ms", "Time %", "MACs", "GFLOP/s"]]
        if self.backward:
            show = show.assign(**{"Backward ms": df["Backward ms"]})
        c, h, w = self.input_size
        lines = [show.to_string(index=False, float_format=lambda v: f"{v:.3f}"), "=" * 80,
                 f"Model: {self.model_name}   input: {self.batch_size}x{c}x{h}x{w}   device: {self.device_name} "
                 f"({self.threads} threads)   warm-up {self.warmup}, repeats {self.repeats}",
                 f"Whole forward (no hooks): {self.whole_forward_s * 1e3:.2f} ms   sum of layers per pass: "
                 f"{self.pass_sum_s * 1e3:.2f} ms   fastest passes: {self.pass_sum_min_s * 1e3:.2f} vs "
                 f"{self.whole_forward_min_s * 1e3:.2f} ms ({100 * self.sum_ratio:.0f}%)   sum of layer medians: "
                 f"{self.layer_sum_s * 1e3:.2f} ms"]
        if self.whole_backward_s is not None:
            lines.append(f"Whole backward: {self.whole_backward_s * 1e3:.2f} ms")
        lines.append(f"Profiled in {self.elapsed_s:.2f} s wall ({self.cpu_s:.2f} s CPU time of this process)")
        return "\n".join(lines)


def resolve_device(device: str) -> torch.device:
    """explorer.devices.resolve_device (the one owner), its ValueError as a DeviceUnavailableError for a device
    name that is not here (cuda without a GPU, a GPU index past the last) and an InspectError for any other text."""
    from explorer import devices

    try:
        return devices.resolve_device(device)
    except ValueError as exc:
        raise (DeviceUnavailableError if devices.is_device_name(device) else InspectError)(str(exc)) from None


class _Clock:
    """Timestamps: perf_counter on CPU, CUDA events on GPU (read after one synchronize)."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"

    def mark(self) -> Any:
        """A timestamp (float seconds or a recorded CUDA event)."""
        if self.cuda:
            ev = torch.cuda.Event(enable_timing=True)
            ev.record()
            return ev
        return time.perf_counter()

    def sync(self) -> None:
        """Wait for queued GPU work (no-op on CPU)."""
        if self.cuda:
            torch.cuda.synchronize()

    def seconds(self, a: Any, b: Any) -> float:
        """Elapsed seconds between two marks (after sync())."""
        return a.elapsed_time(b) / 1e3 if self.cuda else b - a


def _leaves(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Modules without children (the layers that do the work)."""
    return [(n, m) for n, m in model.named_modules() if n and not any(True for _ in m.children())]


def _tensors(obj: Any) -> list[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for o in obj for t in _tensors(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in _tensors(o)]
    return []


class _Timer:
    """Installs forward hooks (and autograd node hooks for backward) on every leaf; collects pairs."""

    def __init__(self, model: nn.Module, clock: _Clock, backward: bool) -> None:
        self.clock, self.backward = clock, backward
        self.fwd: dict[str, list[tuple[Any, Any]]] = {}
        self.bwd: dict[str, list[tuple[Any, Any]]] = {}
        self.handles: list[Any] = []
        self.enabled = True
        self._start: dict[str, list[Any]] = {}
        self._inputs: dict[str, set[Any]] = {}
        for name, mod in _leaves(model):
            self.handles.append(mod.register_forward_pre_hook(self._pre(name), with_kwargs=True))
            self.handles.append(mod.register_forward_hook(self._post(name), with_kwargs=True))

    def _pre(self, name: str) -> Callable:
        def hook(mod: nn.Module, args: tuple, kwargs: dict) -> None:
            if self.enabled:
                if self.backward:
                    self._inputs[name] = {t.grad_fn for t in _tensors((args, kwargs)) if t.grad_fn is not None}
                self._start.setdefault(name, []).append(self.clock.mark())
        return hook

    def _post(self, name: str) -> Callable:
        def hook(mod: nn.Module, args: tuple, kwargs: dict, out: Any) -> None:
            if self.enabled and self._start.get(name):
                self.fwd.setdefault(name, []).append((self._start[name].pop(), self.clock.mark()))
                if self.backward:
                    self._hook_nodes(name, out)
        return hook

    def _hook_nodes(self, name: str, out: Any) -> None:
        """Time every autograd node this module created (from its outputs back to its inputs)."""
        stop = self._inputs.pop(name, set())
        todo = [t.grad_fn for t in _tensors(out) if t.grad_fn is not None]
        seen: set[Any] = set()
        while todo:
            node = todo.pop()
            if node in seen or node in stop or type(node).__name__ == "AccumulateGrad":
                continue
            seen.add(node)
            start: list[Any] = []
            node.register_prehook(lambda g, s=start: s.append(self.clock.mark()) and None)
            node.register_hook(lambda gi, go, s=start, n=name: (
                self.bwd.setdefault(n, []).append((s.pop(), self.clock.mark())) if s else None) and None)
            todo.extend(nf for nf, _ in node.next_functions if nf is not None)

    def take(self) -> tuple[dict[str, float], dict[str, float], dict[str, int]]:
        """Seconds per layer for the last pass (forward, backward) and calls; clears the pairs."""
        self.clock.sync()
        fwd = {n: sum(self.clock.seconds(a, b) for a, b in v) for n, v in self.fwd.items()}
        bwd = {n: sum(self.clock.seconds(a, b) for a, b in v) for n, v in self.bwd.items()}
        calls = {n: len(v) for n, v in self.fwd.items()}
        self.fwd, self.bwd = {}, {}
        return fwd, bwd, calls

    def remove(self) -> None:
        """Remove every module hook (autograd node hooks die with their graph)."""
        for h in self.handles:
            h.remove()
        self.handles.clear()


def _median_quartiles(values: list[float]) -> tuple[float, float, float]:
    """Median, 25th and 75th percentile of a list (one value: all three equal)."""
    if len(values) == 1:
        return values[0], values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return statistics.median(values), q[0], q[2]


def _pass(model: nn.Module, x: torch.Tensor, backward: bool) -> None:
    """One forward (and backward of the summed output) pass."""
    if backward:
        out = model(x)
        sum(t.float().sum() for t in _tensors(out)).backward()
        model.zero_grad(set_to_none=True)
    else:
        with torch.no_grad():
            model(x)


def _timed_pass(model: nn.Module, x: torch.Tensor, clock: _Clock, backward: bool) -> tuple[float, float | None]:
    """Seconds of one forward (no grad) and, when asked, of one backward of the summed output."""
    with torch.no_grad():
        a = clock.mark()
        model(x)
        b = clock.mark()
    clock.sync()
    if not backward:
        return clock.seconds(a, b), None
    out = model(x)
    loss = sum(t.float().sum() for t in _tensors(out))
    c = clock.mark()
    loss.backward()
    d = clock.mark()
    clock.sync()
    model.zero_grad(set_to_none=True)
    return clock.seconds(a, b), clock.seconds(c, d)


def _run_repeats(model: nn.Module, x: torch.Tensor, timer: _Timer, repeats: int, backward: bool,
                 budget_s: float | None = None) -> tuple[dict[str, list[tuple[float, float]]], dict[str, int], list[float], list[float], list[float]]:
    """Interleave a whole pass (hooks off) and a hooked pass, so both see the same machine load.

    With `budget_s`, stop after that many seconds once 3 repeats are done."""
    deadline = time.perf_counter() + budget_s if budget_s else None
    per: dict[str, list[tuple[float, float]]] = {}
    calls: dict[str, int] = {}
    whole_f: list[float] = []
    whole_b: list[float] = []
    sums: list[float] = []
    for i in range(repeats):
        if deadline is not None and i >= 3 and time.perf_counter() > deadline:
            break
        timer.enabled = False
        f, b = _timed_pass(model, x, timer.clock, backward)
        whole_f.append(f)
        if b is not None:
            whole_b.append(b)
        timer.enabled = True
        _pass(model, x, backward)
        fwd, bwd, calls = timer.take()
        sums.append(sum(fwd.values()))
        for n, s in fwd.items():
            per.setdefault(n, []).append((s, bwd.get(n, 0.0)))
    return per, calls, whole_f, whole_b, sums


def _block_of(name: str, depth: int) -> str:
    """The block a layer belongs to: its first `depth` name components."""
    return ".".join(name.split(".")[:depth])


def measure(model: nn.Module, input_size: tuple[int, int, int], device: str = "cpu", batch_size: int = 1,
            warmup: int = 2, repeats: int = 10, backward: bool = False, block_depth: int | None = None,
            name: str | None = None, budget_s: float | None = 3.0) -> Profile:
    """Profile `model` (moved to `device`, eval mode; restored afterwards) on random input of (C, H, W).

    `budget_s` stops the timed passes after that many seconds (at least 3 repeats); None: all `repeats`.
    """
    from explorer.inspect.summary import parse_input_size, summarize

    t0, cpu0 = time.perf_counter(), time.process_time()
    c, h, w = parse_input_size(input_size)
    if not 1 <= int(repeats) <= MAX_REPEATS or int(warmup) < 0:
        raise InspectError(f"repeats must be 1..{MAX_REPEATS} and warm-up 0 or more; got {repeats}, {warmup}")
    if isinstance(batch_size, bool) or int(batch_size) < 1:
        raise InspectError(f"batch size must be a positive whole number, got {batch_size!r}")
    dev = resolve_device(device)
    summary = summarize(model, (c, h, w), batch_size=batch_size)
    macs = {r.name: r.macs for r in summary.layers}
    if block_depth is None:
        block_depth = 2 if hasattr(model, "adapter") and hasattr(model, "net") else 1
    clock = _Clock(dev)
    x = torch.rand(batch_size, c, h, w, device=dev)
    was_training, old_device = model.training, _device_of(model)
    model.to(dev).eval()
    timer = None
    try:
        timer = _Timer(model, clock, backward)
        timer.enabled = False
        for _ in range(max(1, warmup)):
            _timed_pass(model, x, clock, backward)
        per, calls, whole_f, whole_b, sums = _run_repeats(model, x, timer, repeats, backward, budget_s)
    finally:
        if timer is not None:
            timer.remove()
        model.to(old_device).train(was_training)
    leaves = dict(_leaves(model))
    order = {n: i for i, n in enumerate(per)}
    layers = []
    for n, vals in per.items():
        med, p25, p75 = _median_quartiles([v[0] for v in vals])
        layers.append(LayerTime(
            name=n, type=type(leaves[n]).__name__, block=_block_of(n, block_depth), order=order[n],
            calls=calls.get(n, 1), forward_s=med, forward_p25_s=p25, forward_p75_s=p75,
            backward_s=statistics.median(v[1] for v in vals) if backward else None, macs=int(macs.get(n, 0))))
    return Profile(
        model_name=name or getattr(model, "name", None) or type(model).__name__, input_size=(c, h, w),
        batch_size=batch_size, device=str(dev), device_name=_device_name(dev), threads=torch.get_num_threads(),
        warmup=warmup, repeats=len(whole_f), backward=backward, whole_forward_s=statistics.median(whole_f),
        pass_sum_s=statistics.median(sums), whole_forward_min_s=min(whole_f), pass_sum_min_s=min(sums),        whole_backward_s=statistics.median(whole_b) if whole_b else None,
        layers=layers, macs=summary.macs, elapsed_s=time.perf_counter() - t0, cpu_s=time.process_time() - cpu0)


def _device_of(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def _device_name(dev: torch.device) -> str:
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    import platform

    return f"CPU ({platform.processor() or platform.machine()})"


def profile_model(name: str, input_size: tuple[int, int, int] | str | None = None, device: str = "cpu",
                  batch_size: int = 1, warmup: int = 2, repeats: int = 10, backward: bool = False,
                  num_classes: int = 1000, letters: bool = False, budget_s: float | None = 3.0) -> Profile:
    """Profile a registry network (random weights) at `input_size` (default: its reference size).

    letters=True profiles the letters model (adapter + net) on 1x28x28 input with `num_classes` classes.
    """
    from explorer.inspect.summary import parse_input_size
    from explorer.models import build_letters_model, build_model, get_card

    card = get_card(name)
    if letters:
        model: nn.Module = build_letters_model(card.name, num_classes=num_classes)
        size = parse_input_size(input_size or (1, 28, 28))
    else:
        size = parse_input_size(input_size or card.input_size)
        model = build_model(card.name, num_classes=num_classes, in_chans=size[0])
    return measure(model, size, device=device, batch_size=batch_size, warmup=warmup, repeats=repeats,
                   backward=backward, name=card.name + (" (letters)" if letters else ""), budget_s=budget_s)


# ---- on-disk cache of profiles (for Compare architectures) --------------------------------------
PROFILES_ENV = "EXPLORER_PROFILES"


def profiles_dir(root: str | None = None) -> Path:
    """Where profiles are cached: `root`, else $EXPLORER_PROFILES, else <runs root>/.profiles."""
    import os

    from explorer.io import runs_root

    return Path(root or os.environ.get(PROFILES_ENV) or runs_root() / ".profiles")


def _profile_file(p: Profile, root: str | None) -> Path:
    from explorer.io import safe_name

    c, h, w = p.input_size
    key = f"{p.model_name}_{p.batch_size}x{c}x{h}x{w}_{p.device}_{'fb' if p.backward else 'f'}"
    return profiles_dir(root) / f"{safe_name(key, default='profile', max_len=120)}.json"


def save_profile(p: Profile, root: str | None = None) -> Path:
    """Write the profile atomically (one file per model, size, device and pass); returns its path."""
    from explorer.io import atomic_write_json

    path = _profile_file(p, root)
    atomic_write_json(path, p.to_json())
    return path


def load_profiles(root: str | None = None) -> list[Profile]:
    """Every readable cached profile, newest first (unreadable files are skipped)."""
    import json

    d = profiles_dir(root)
    out = []
    for f in sorted(d.glob("*.json")) if d.is_dir() else []:
        try:
            out.append(Profile.from_json(json.loads(f.read_text("utf-8"))))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return sorted(out, key=lambda p: p.created, reverse=True)


def measured_latency(root: str | None = None) -> pd.DataFrame:
    """The latest forward profile of each model and device: model, device, input, median ms, when."""
    rows, seen = [], set()
    for p in load_profiles(root):
        key = (p.model_name, p.device)
        if key in seen or p.model_name.endswith("(letters)"):
            continue
        seen.add(key)
        c, h, w = p.input_size
        rows.append({"model": p.model_name, "device": p.device, "input": f"{p.batch_size}x{c}x{h}x{w}",
                     "measured ms": p.whole_forward_s * 1e3, "threads": p.threads})
    return pd.DataFrame(rows, columns=["model", "device", "input", "measured ms", "threads"])
