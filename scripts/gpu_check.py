#!/usr/bin/env python3
"""The GPU check: one command that proves or breaks every GPU path of CNN Explorer and brings the figures back.

On the lent GPU machine (its own Python 3.12 and torch, no network, not this project's other packages),
from the repository root, with the wheels of scripts/gpu_wheels.sh carried in .whl/:

    python3 scripts/gpu_check.py                 # every step; results under $OUT (else ./gpu-check-out)
    python3 scripts/gpu_check.py --only bench    # rerun one step (comma-separated: install,doctor,e2e,tests,bench)

Here, on the CPU, before any device time is spent:

    .venv/bin/python scripts/gpu_check.py --dry-run

goes through every step: installs the wheels into a temporary folder (for the device's Python version),
runs the doctor, the gpu tests (which skip on a CPU, saying why), the GPU benchmark's code and the
end-to-end commands on the CPU with tiny sizes, so every command line is known to work.

Steps (each under its own time limit, all together within --budget seconds, default 420 = 7 minutes):
  install  pip-install the carried wheels into a private folder (--target), then import every module
           the GPU paths need and print its version
  doctor   `explorer doctor --json --device cuda`: versions, devices, a real step of every path
  e2e      `explorer train --device cuda`: the quick model (its recipe, whole) and ResNet-18 from scratch,
           then `evaluate --recompute --device cuda`, `explain --device cuda`, `predict --device cuda`
  tests    `pytest -m gpu tests/test_gpu.py` (amp bands, channels_last, compile, OOM, loader, Grad-CAM,
           nccl world size 1, resume GPU <-> CPU)
  bench    `bench/bench_train.py --gpu-only` (a dry run: its code on the CPU, tiny): ResNet-18 on an EMNIST-letters-sized epoch (124,800 images),
           compile off and on, against a plain Dataset + DataLoader + PIL fp32 loop in the same run
Writes summary.md, summary.json, steps.log, doctor.json, gpu_tests.log, bench_gpu.json, e2e.log (7 files:
the device tool brings back at most 8). Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("install", "doctor", "e2e", "tests", "bench")
# Seconds each step may take on the GPU machine (the budget clips them further).
LIMITS = {"install": 120, "doctor": 100, "e2e": 150, "tests": 180, "bench": 240}
# Modules the GPU paths import that the device machine lacks (its README lists what it has); the wheels
# of scripts/gpu_wheels.sh bring them. The rest are checked to be present with a version.
CARRIED = {"captum": "captum", "HersheyFonts": "hershey-fonts", "altair": "altair", "vl_convert": "vl-convert-python",
           "jsonschema": "jsonschema", "referencing": "referencing", "rpds": "rpds-py"}
PRESENT = ("torch", "torchvision", "timm", "safetensors", "numpy", "sklearn", "pandas", "PIL", "tqdm", "pytest")
DRY_SLACK = 5  # a dry run on a (shared, 2-core) CPU may take this many times the GPU limits and budget
GOALS = {"resnet18_epoch_s": 3.0, "resnet18_epoch_aim_s": 1.0, "ratio_vs_plain": 10.0}


@dataclass
class Step:
    """One step's outcome: pass / fail / skip / timeout, how long it took, why, and the figures it found."""

    name: str
    status: str = "skip"
    seconds: float = 0.0
    reason: str = ""
    figures: dict[str, object] = field(default_factory=dict)


class Checker:
    """Runs the steps in order under one budget, logging every command's output to steps.log."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out = Path(args.out).resolve()
        self.out.mkdir(parents=True, exist_ok=True)
        self.log = (self.out / "steps.log").open("w", encoding="utf-8")
        self.start = time.monotonic()
        self.work = Path(tempfile.mkdtemp(prefix="gpu-check-"))
        self.site = Path(args.site) if args.site else self.work / "site"
        self.env = dict(os.environ)
        self.env.update({"PYTHONUNBUFFERED": "1", "EXPLORER_DATA": str(self.work / "data"),
                         "EXPLORER_RUNS": str(self.work / "runs"), "PYTHONPATH": str(ROOT)})
        self.cuda = False if args.dry_run else self._has_cuda()
        self.device = "cuda" if self.cuda else "cpu"

    # -- helpers -------------------------------------------------------------------------------
    def left(self) -> float:
        """Seconds of the budget that are left."""
        return self.args.budget - (time.monotonic() - self.start)

    def limit(self, name: str) -> float:
        """A step's time limit: its own (DRY_SLACK times longer on a CPU, where nothing is a measurement),
        clipped to what is left of the budget."""
        return min(LIMITS[name] * (DRY_SLACK if self.args.dry_run else 1), self.left())

    def say(self, text: str) -> None:
        """Print a line and log it."""
        print(text, flush=True)
        self.log.write(text + "\n")
        self.log.flush()

    def run(self, cmd: list[str], limit: float, tee: Path | None = None) -> tuple[int | None, str, float]:
        """Run `cmd` in its own process group for at most `limit` s; (exit code or None on timeout, output, s)."""
        self.say(f"$ {' '.join(cmd)}   (limit {limit:.0f} s)")
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=max(1.0, limit))
            code: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            code = None
        secs = time.monotonic() - t0
        self.log.write(out or "")
        self.log.write(f"[exit {code if code is not None else 'TIMEOUT'} after {secs:.1f} s]\n\n")
        self.log.flush()
        if tee is not None:
            with tee.open("a", encoding="utf-8") as fh:
                fh.write(f"$ {' '.join(cmd)}\n{out}\n[exit {code} after {secs:.1f} s]\n\n")
        return code, out or "", secs

    def _has_cuda(self) -> bool:
        probe = subprocess.run([sys.executable, "-c", "import torch; print(torch.cuda.is_available())"],
                               capture_output=True, text=True, env=self.env, timeout=120)
        return probe.stdout.strip().endswith("True")

    def py(self) -> list[str]:
        """The interpreter every step runs with (this one)."""
        return [sys.executable]

    def explorer(self, *args: str) -> list[str]:
        """`python -m explorer ...`."""
        return [*self.py(), "-m", "explorer", *args]

    # -- steps ---------------------------------------------------------------------------------
    def install(self, step: Step, limit: float) -> None:
        """Install the carried wheels into a private --target folder, then import every needed module."""
        t0 = time.monotonic()
        wheels = sorted(Path(self.args.wheels).glob("*.whl")) if self.args.wheels else []
        target_py = self.args.for_python or ("3.12" if self.args.dry_run else f"{sys.version_info[0]}.{sys.version_info[1]}")
        if wheels:
            cmd = [*self.py(), "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile", "--no-cache-dir",
                   "--upgrade", "--disable-pip-version-check", "--target", str(self.site), "--only-binary=:all:",
                   "--python-version", target_py, *map(str, wheels)]
            code, out, _ = self.run(cmd, limit)
            if code != 0:
                step.status, step.reason = "fail", f"pip could not install the wheels: {_last_line(out)}"
                return
            installed = sorted(p.name for p in self.site.iterdir() if not p.name.endswith((".dist-info", ".data")))
            step.figures["installed"] = installed
            step.figures["into"] = str(self.site)
            if target_py == f"{sys.version_info[0]}.{sys.version_info[1]}":
                self.env["PYTHONPATH"] = os.pathsep.join([str(self.site), str(ROOT)])
        else:
            step.figures["installed"] = []
            step.figures["note"] = f"no wheels in {self.args.wheels or '(none given)'}: using what this Python has"
        dists = {**CARRIED, "PIL": "pillow", "sklearn": "scikit-learn"}
        probe = ("import importlib, importlib.metadata as md, json\nout = {}\n"
                 f"dists = {dists!r}\n"
                 f"for m in {list(CARRIED) + list(PRESENT)!r}:\n"
                 "    try:\n        importlib.import_module(m)\n"
                 "        try:\n            out[m] = md.version(dists.get(m, m))\n"
                 "        except md.PackageNotFoundError:\n            out[m] = 'present'\n"
                 "    except Exception as exc:\n        out[m] = 'MISSING: ' + type(exc).__name__ + ': ' + str(exc)[:120]\n"
                 "import torch\nout['cuda'] = torch.cuda.is_available()\n"
                 "out['gpu'] = torch.cuda.get_device_name(0) if out['cuda'] else None\n"
                 "print('MODULES ' + json.dumps(out))\n")
        code, out, _ = self.run([*self.py(), "-c", probe], max(5.0, limit - (time.monotonic() - t0)))
        found = _json_after(out, "MODULES ")
        step.figures["modules"] = found
        missing = [m for m, v in (found or {}).items() if isinstance(v, str) and v.startswith("MISSING")]
        if code != 0 or found is None:
            step.status, step.reason = "fail", f"the import check failed: {_last_line(out)}"
        elif missing:
            hint = ", ".join(CARRIED.get(m, m) for m in missing)
            step.status, step.reason = "fail", f"missing {hint}: run scripts/gpu_wheels.sh here and carry .whl"
        else:
            step.status = "pass"
            where = f"{len(wheels)} wheels into {self.site} (for Python {target_py})" if wheels else "no wheels needed"
            step.reason = where + ("; the dry run imports from this venv" if self.args.dry_run and wheels else "")

    def doctor(self, step: Step, limit: float) -> None:
        """`explorer doctor --json` on the GPU (on the CPU in a dry run, compile check skipped)."""
        args = ["doctor", "--json", "--device", self.device, "--compile-timeout", "0" if self.args.dry_run else "60"]
        code, out, _ = self.run(self.explorer(*args), limit)
        report = _json_object(out)
        if report is None:
            step.status, step.reason = ("timeout" if code is None else "fail"), f"no JSON report: {_last_line(out)}"
            return
        (self.out / "doctor.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
        checks = report.get("checks", [])
        counts: dict[str, int] = {}
        for c in checks:
            counts[c.get("status", "?")] = counts.get(c.get("status", "?"), 0) + 1
        step.figures = {"checks": counts, "rows": [f"{c.get('device')} {c.get('name')}: {c.get('status')}"
                                                    + (f" {c['images_per_s']:.0f} img/s" if c.get("images_per_s") else "")
                                                    for c in checks], "gpu_note": report.get("gpu_note")}
        failed = [c.get("name") for c in checks if c.get("status") == "fail"]
        step.status = "fail" if failed or code not in (0,) else "pass"
        step.reason = f"failed rows: {', '.join(map(str, failed))}" if failed else \
            ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))

    def tests(self, step: Step, limit: float) -> None:
        """`pytest -m gpu tests/test_gpu.py` (every test skips with the doctor's reason on a CPU)."""
        cmd = [*self.py(), "-m", "pytest", "-m", "gpu", "tests/test_gpu.py", "-q", "-rs", "-p", "no:cacheprovider",
               "-o", "addopts=", "--timeout", str(int(max(30, limit - 10)))]
        log = self.out / "gpu_tests.log"
        log.write_text("", encoding="utf-8")
        code, out, _ = self.run(cmd, limit, tee=log)
        m = {k: int(v) for v, k in re.findall(r"(\d+) (passed|failed|skipped|errors?|deselected)", out)}
        step.figures = m
        if code is None:
            step.status, step.reason = "timeout", f"pytest ran past {limit:.0f} s"
        elif m.get("failed") or m.get("error") or m.get("errors") or code not in (0, 5):
            step.status, step.reason = "fail", _last_line(out)
        elif m.get("passed"):
            step.status, step.reason = "pass", _last_line(out)
        else:
            reasons = sorted(set(re.findall(r"SKIPPED \[\d+\] [^:]+:\d+: (.*)", out)))
            step.status, step.reason = "skip", "; ".join(reasons) or _last_line(out)

    def bench(self, step: Step, limit: float) -> None:
        """`bench/bench_train.py --gpu-only` (prints 'not measured: <why>' without a GPU)."""
        jpath = self.out / "bench_gpu.json"
        dry = ["--dry-run"] if self.args.dry_run else []
        code, out, _ = self.run([*self.py(), "bench/bench_train.py", "--gpu-only", *dry, "--json", str(jpath)], limit)
        data = json.loads(jpath.read_text(encoding="utf-8")) if jpath.is_file() else {}
        gpu = data.get("gpu")
        if code is None:
            step.status, step.reason = "timeout", f"the benchmark ran past {limit:.0f} s: {_last_line(out)}"
        elif code != 0:
            step.status, step.reason = "fail", _last_line(out)
        elif isinstance(gpu, str):
            step.status, step.reason = "skip", gpu
        elif isinstance(gpu, dict) and gpu.get("dry_run"):
            step.figures = {k: gpu.get(k) for k in ("device", "images", "batch", "ratio_vs_plain")}
            step.status = "pass"
            step.reason = (f"dry run: the GPU section's code ran on {gpu.get('device')} with {gpu.get('images')} images "
                           "(no compile, 2 timed steps); not a measurement")
        elif isinstance(gpu, dict):
            off, on = gpu.get("resnet18_compile_off", {}), gpu.get("resnet18_compile_on", {})
            best = min(x.get("s_per_epoch", 1e9) for x in (off, on))
            step.figures = {"device": gpu.get("device"), "resnet18_s_per_epoch_compile_off": off.get("s_per_epoch"),
                            "resnet18_s_per_epoch_compile_on": on.get("s_per_epoch"),
                            "plain_loop_s_per_epoch": gpu.get("plain_dataloader_pil_fp32", {}).get("s_per_epoch"),
                            "ratio_vs_plain": gpu.get("ratio_vs_plain"), "best_s_per_epoch": best,
                            "recipes": {k: gpu[k] for k in ("densenet121_transfer", "xception_two_stage") if k in gpu}}
            ok = best <= GOALS["resnet18_epoch_s"] and (gpu.get("ratio_vs_plain") or 0) >= GOALS["ratio_vs_plain"]
            step.status = "pass" if ok else "fail"
            step.reason = (f"ResNet-18 epoch {best:.2f} s (goal <= {GOALS['resnet18_epoch_s']:.0f} s, aim "
                           f"{GOALS['resnet18_epoch_aim_s']:.0f} s), {gpu.get('ratio_vs_plain', 0):.1f}x the plain loop "
                           f"(goal >= {GOALS['ratio_vs_plain']:.0f}x)")
        else:
            step.status, step.reason = "fail", f"no GPU section in {jpath.name}: {_last_line(out)}"

    def e2e(self, step: Step, limit: float) -> None:
        """Train the quick model and ResNet-18 through the CLI on the device, then evaluate, explain, predict."""
        log = self.out / "e2e.log"
        log.write_text("", encoding="utf-8")
        deadline = time.monotonic() + limit
        dev = self.device
        tiny = self.args.dry_run or not self.cuda
        runs = {
            "quick": ["--recipe", "quick"] + (["--size", "10", "--epochs", "1", "--batch-size", "32"] if tiny else []),
            "resnet18": ["--recipe", "resnet18_scratch", "--amp", "bf16" if self.cuda else "none"]
            + ["--epochs", "2"] + (["--size", "4", "--batch-size", "16"] if tiny else ["--batch-size", "256"]),
        }
        problems: list[str] = []
        for name, extra in runs.items():
            root = self.work / f"runs-{name}"
            code, out, secs = self.run(self.explorer("train", *extra, "--device", dev, "--runs", str(root), "--no-progress",
                                                     "--name", f"gpu-check-{name}"), max(5.0, deadline - time.monotonic()), tee=log)
            folders = [p for p in root.glob("*") if p.is_dir() and not p.name.startswith(".")] if root.is_dir() else []
            if code != 0 or len(folders) != 1:
                problems.append(f"train {name}: " + ("timeout" if code is None else _last_line(out)))
                continue
            run = folders[0]
            fig = _train_figures(run)
            fig["wall_s"] = round(secs, 1)
            step.figures[name] = fig
            cmds = {
                "evaluate": self.explorer("evaluate", str(run), "--recompute", "--device", dev, "--out", str(self.work / f"eval-{name}")),
                "explain": self.explorer("explain", str(run), "test:0", "--device", dev, "--out", str(self.work / f"explain-{name}.png")),
                "predict": self.explorer("predict", str(run), "test:0", "test:1", "assets/examples/A.png", "--device", dev, "--json"),
            }
            for what, cmd in cmds.items():
                code, out, secs = self.run(cmd, max(5.0, deadline - time.monotonic()), tee=log)
                if code != 0:
                    problems.append(f"{what} {name}: " + ("timeout" if code is None else _last_line(out)))
                    continue
                fig[f"{what}_s"] = round(secs, 1)
                if what == "evaluate":
                    acc = re.search(r"^accuracy\s+([0-9.]+)", out, re.M)
                    fig["recomputed_acc"] = float(acc.group(1)) if acc else None
                if what == "predict":
                    got = _json_object(out) or {}
                    fig["predict_device"] = got.get("device")
                    fig["predicted"] = [p["top"][0][0] for p in got.get("predictions", [])]
        if problems:
            step.status, step.reason = "fail", "; ".join(problems)
        else:
            step.status = "pass"
            step.reason = "on " + dev + (" with tiny sizes (dry run)" if tiny else "") + ": " + "; ".join(
                f"{n} test acc {f.get('test_acc')}, {f.get('s_per_epoch')} s/epoch" for n, f in step.figures.items())

    # -- driver --------------------------------------------------------------------------------
    def main(self) -> int:
        """Run the chosen steps, then write and print the summary; exit 1 when a step failed."""
        chosen = [s for s in STEPS if s in self.args.only] if self.args.only else list(STEPS)
        self.say(f"GPU check of CNN Explorer ({'DRY RUN on the CPU' if self.args.dry_run else 'device: ' + self.device}); "
                 f"steps {', '.join(chosen)}; budget {self.args.budget:.0f} s; python {sys.version.split()[0]}; out {self.out}")
        if not self.cuda and not self.args.dry_run:
            self.say("no CUDA GPU here: the GPU steps will skip and say why (use --dry-run to check the script on a CPU)")
        results: list[Step] = []
        for name in chosen:
            step = Step(name)
            limit = self.limit(name)
            if limit < 5:
                step.reason = f"skipped: the {self.args.budget:.0f} s budget is spent"
                results.append(step)
                self.say(f"== {name}: {step.reason}")
                continue
            self.say(f"== {name} (limit {limit:.0f} s)")
            t0 = time.monotonic()
            try:
                getattr(self, name)(step, limit)
            except Exception as exc:  # a bug in this script: report it as the step's failure, go on
                step.status, step.reason = "fail", f"{type(exc).__name__}: {exc}"
            step.seconds = round(time.monotonic() - t0, 1)
            self.say(f"== {name}: {step.status.upper()} in {step.seconds:.1f} s - {step.reason}")
            results.append(step)
            if name == "install" and step.status == "fail":
                self.say("the install step failed: the other steps would only fail on imports; stopping")
                break
        return self.summary(results)

    def summary(self, results: list[Step]) -> int:
        """Write summary.json and summary.md and print the table."""
        total = round(time.monotonic() - self.start, 1)
        doc = {"dry_run": self.args.dry_run, "device": self.device, "python": sys.version.split()[0], "total_s": total,
               "budget_s": self.args.budget, "steps": [asdict(s) for s in results]}
        (self.out / "summary.json").write_text(json.dumps(doc, indent=2, default=str), encoding="utf-8")
        lines = ["| step | status | seconds | result |", "|---|---|---|---|"]
        lines += [f"| {s.name} | {s.status} | {s.seconds:.1f} | {s.reason.replace('|', '/')} |" for s in results]
        title = f"GPU check ({'dry run on the CPU' if self.args.dry_run else self.device}), {total:.0f} s of {self.args.budget:.0f} s"
        text = "\n".join([f"# {title}", "", *lines, ""])
        (self.out / "summary.md").write_text(text, encoding="utf-8")
        self.say("\n" + text)
        shutil.rmtree(self.work, ignore_errors=True) if not self.args.keep else None
        failed = [s.name for s in results if s.status in ("fail", "timeout")]
        return 1 if failed else 0


def _train_figures(run: Path) -> dict[str, object]:
    """Test accuracy, seconds per epoch, images/s and the device from a finished run folder."""
    fig: dict[str, object] = {"run": run.name}
    try:
        metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
        fig["test_acc"] = round(float(metrics.get("test_acc")), 4)
        status = json.loads((run / "status.json").read_text(encoding="utf-8"))
        fig["device"] = status.get("device_label") or status.get("device")
        fig["gpu_mem_peak_mb"] = status.get("gpu_mem_peak_mb")
        rows = [json.loads(x) for x in (run / "history.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
        last = rows[-1] if rows else {}
        fig["epochs"] = len(rows)
        fig["s_per_epoch"] = round(float(last.get("epoch_time", 0.0)), 2)
        fig["images_per_s"] = round(float(last.get("images_per_s", 0.0)))
    except (OSError, ValueError, TypeError) as exc:
        fig["error"] = f"{type(exc).__name__}: {exc}"
    return fig


def _last_line(text: str) -> str:
    lines = [x.strip() for x in (text or "").splitlines() if x.strip()]
    return lines[-1][:300] if lines else "(no output)"


def _json_object(text: str) -> dict | None:
    """The first top-level JSON object in `text` (commands may print lines before it)."""
    start = (text or "").find("{")
    while start != -1:
        try:
            obj, _ = json.JSONDecoder().raw_decode(text[start:])
            if isinstance(obj, dict):
                return obj
        except ValueError:
            pass
        start = text.find("{", start + 1)
    return None


def _json_after(text: str, marker: str) -> dict | None:
    for line in (text or "").splitlines():
        if line.startswith(marker):
            try:
                return json.loads(line[len(marker):])
            except ValueError:
                return None
    return None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dry-run", action="store_true", help="check the script on the CPU: every step, tiny sizes")
    ap.add_argument("--out", default=os.environ.get("OUT") or str(ROOT / "gpu-check-out"), help="results folder ($OUT)")
    ap.add_argument("--wheels", default=str(ROOT / ".whl"), help="folder of wheels to install (scripts/gpu_wheels.sh)")
    ap.add_argument("--site", help="install the wheels here (default: a temporary folder)")
    ap.add_argument("--for-python", help="Python version the wheels are for (default: this one; 3.12 in a dry run)")
    ap.add_argument("--only", type=lambda s: [x.strip() for x in s.split(",") if x.strip()],
                    help=f"comma-separated steps to run, of {', '.join(STEPS)}")
    ap.add_argument("--budget", type=float, help=f"seconds for all steps together (default 420; {DRY_SLACK}x in a dry run)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (runs, data, figures)")
    args = ap.parse_args(argv)
    if args.budget is None:
        args.budget = 420.0 * (DRY_SLACK if args.dry_run else 1)
    bad = [s for s in (args.only or []) if s not in STEPS]
    if bad:
        ap.error(f"unknown step(s) {', '.join(bad)}: choose from {', '.join(STEPS)}")
    return args


if __name__ == "__main__":
    sys.exit(Checker(parse_args()).main())
