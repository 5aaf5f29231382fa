"""Fault suite: every file of a run in turn truncated, emptied, filled with garbage, replaced by a
code-executing pickle and given JSON of the wrong types, each against the CLI (runs list / show /
evaluate / explain / resume / export) and every run page (AppTest). Asserted: exit 0 or exit 2 with one
clear line naming the damaged file (never a traceback, never a hint to turn off weights_only), the
pickle's marker file never appears, unreadable runs are listed with the file and the reason, and the
other run's files keep their bytes. Each damaged run is a copy of one pristine run (make_page_run)."""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from streamlit.testing.v1 import AppTest

from explorer.cli import main
from explorer.config import TrainConfig
from explorer.train.job import train
from tests.conftest import page_path
from tests.run_fixtures import DATA, make_page_run

JSON_FILES = ("config.json", "status.json", "history.jsonl", "metrics.json")
BINARY_FILES = ("predictions.npz", "weights_best.safetensors", "weights_last.safetensors", "optimizer_last.pt")
DAMAGES = ("truncated", "empty", "garbage", "pickle")
# JSON of the wrong types: (file, how to rewrite its text)
WRONG_TYPES = {
    "config-list": ("config.json", lambda t: "[1, 2]"),
    "config-train-text": ("config.json", lambda t: json.dumps({**json.loads(t), "train": "abc"})),
    "config-epochs-text": ("config.json", lambda t: json.dumps(
        {**json.loads(t), "train": {**json.loads(t)["train"], "epochs": "abc"}})),
    "config-tags-number": ("config.json", lambda t: json.dumps({**json.loads(t), "tags": 5})),
    "status-list": ("status.json", lambda t: "[]"),
    "status-epoch-text": ("status.json", lambda t: json.dumps({**json.loads(t), "epoch": "three"})),
    "history-list-line": ("history.jsonl", lambda t: t + "[1, 2]\n"),
    "history-acc-text": ("history.jsonl", lambda t: t.replace('"val_acc": ', '"val_acc": "x", "was": ', 1)),
    "metrics-acc-text": ("metrics.json", lambda t: json.dumps({**json.loads(t), "test_acc": "high"})),
    "metrics-list": ("metrics.json", lambda t: "[1, 2]"),
}
# valid files with wrong values: weights of the wrong shapes, predictions pointing outside the test split or classes
WRONG_VALUES = [("weights_best.safetensors", "wrong-shape"), ("weights_last.safetensors", "wrong-shape"),
                ("predictions.npz", "bad-indices"), ("predictions.npz", "bad-labels")]
CASES = ([(f, d) for f in JSON_FILES + BINARY_FILES for d in DAMAGES] + [(f, k) for k, (f, _) in WRONG_TYPES.items()]
         + WRONG_VALUES)


class Marker:
    """Unpickling this calls open(path, "w"): a marker file that proves foreign code ran."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple:
        return (open, (str(self.path), "w"))


def damage(path: Path, how: str, marker: Path) -> None:
    """Damage one file of a run in place."""
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "garbage":
        path.write_bytes(bytes(range(256)) * 8)
    elif how == "pickle" and path.suffix == ".pt":
        torch.save({"epoch": 3, "loop": {"epoch": 3}, "optimizer": {}, "x": Marker(marker)}, path)
    elif how == "pickle":
        path.write_bytes(pickle.dumps(Marker(marker)))
    elif how in ("wrong-shape", "bad-indices", "bad-labels"):
        wrong_values(path, how)
    else:
        path.write_text(WRONG_TYPES[how][1](data.decode("utf-8")), "utf-8")


def wrong_values(path: Path, how: str) -> None:
    """Rewrite a valid file with values that do not fit the run (through the formats' own writers)."""
    if how == "wrong-shape":
        with safe_open(str(path), framework="pt") as f:
            meta, state = f.metadata(), {k: torch.zeros(3) for k in f.keys()}  # noqa: SIM118 (safe_open is not iterable)
        save_file(state, str(path), metadata=meta)
        return
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    key, value = ("indices", 10**6) if how == "bad-indices" else ("y_true", 999)
    arrays[key][0] = value
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def unreadable_expected(fname: str, how: str) -> bool:
    """Whether the run must be listed as unreadable (a torn or empty history is still a valid history)."""
    return fname in JSON_FILES and not (fname == "history.jsonl" and how in ("truncated", "empty"))


def digest(folder: Path) -> dict[str, str]:
    """sha256 of every file in a run folder: the "untouched" check."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> tuple[Path, Path]:
    """(a good run that must stay untouched, a template run that each case copies and damages)."""
    root = tmp_path_factory.mktemp("fault_templates")
    victim = train(TrainConfig(model="small_cnn", data=DATA, epochs=1, name="victim", seed=0), root=root)
    assert victim.status["status"] == "completed"  # a real run: resume, evaluate and explain all work on it
    return make_page_run(root, "good"), victim.path


def damaged_root(base: Path, pristine: tuple[Path, Path], cases: list[tuple[str, str]]) -> tuple[Path, dict]:
    """A runs root holding a copy of the good run and one damaged copy of the victim per case."""
    good, victim = pristine
    root = base / "runs"
    shutil.copytree(good, root / good.name)
    ids = {}
    for i, (fname, how) in enumerate(cases):
        run_id = f"{victim.name}-{i:02d}-{fname.split('.')[0]}-{how}"
        shutil.copytree(victim, root / run_id)
        damage(root / run_id / fname, how, base / "MARKER")
        ids[(fname, how)] = run_id
    return root, ids


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    """Run the CLI in this process: (exit status, stdout, stderr); any traceback fails the test."""
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


COMMANDS = ("show", "evaluate", "explain", "resume", "export")


def argv_for(command: str, root: Path, run_id: str, tmp: Path) -> list[str]:
    """The CLI arguments of one command on one run."""
    run_dir = str(root / run_id)
    return {"show": ["runs", "--runs", str(root), "show", run_id],
            "evaluate": ["evaluate", run_dir, "--no-figures"],
            "explain": ["explain", run_dir, "test:0", "--out", str(tmp / "x.png")],
            "resume": ["runs", "--runs", str(root), "resume", run_id, "--no-progress"],
            "export": ["runs", "--runs", str(root), "export", run_id, "-o", str(tmp / "x.zip")]}[command]


@pytest.mark.parametrize(("fname", "how"), CASES, ids=[f"{f}-{h}" for f, h in CASES])
def test_cli_on_damaged_file(fname, how, pristine, tmp_path, capsys, monkeypatch):
    """list/show/evaluate/explain/resume/export: exit 0, or exit 2 with one line naming the file; no code runs."""
    root, ids = damaged_root(tmp_path, pristine, [(fname, how)])
    run_id, good = ids[(fname, how)], pristine[0].name
    monkeypatch.setenv("EXPLORER_RUNS", str(root))
    before = digest(root / good)
    rc, out, err = cli(capsys, "runs", "--runs", str(root), "list")
    assert rc == 0 and good in out and run_id in out, out  # never hidden
    if unreadable_expected(fname, how):
        row = next(line for line in out.splitlines() if line.startswith(run_id))
        assert "unreadable" in row and f"unreadable: {root / run_id / fname}" in out, out
    for command in COMMANDS:
        rc, out, err = cli(capsys, *argv_for(command, root, run_id, tmp_path))
        assert rc in (0, 2), (command, rc, err)
        if rc == 2:
            assert err.startswith("error: ") and err.count("\n") == 1, (command, err)
            assert fname in err, (command, err)  # names the damaged file
            assert "weights_only" not in err and "Traceback" not in err, (command, err)
    assert not (tmp_path / "MARKER").exists(), "a pickle in a run file was executed"
    assert digest(root / good) == before


def test_cli_must_refuse(pristine, tmp_path, capsys):
    """The commands that need a damaged file refuse with exit 2 (garbage in each file)."""
    needs = {"config.json": COMMANDS[:4], "history.jsonl": ("show", "resume"), "metrics.json": ("show",),
             "predictions.npz": ("evaluate", "explain"), "weights_best.safetensors": ("explain", "resume"),
             "weights_last.safetensors": ("resume",), "optimizer_last.pt": ("resume",)}
    extra = {("optimizer_last.pt", "pickle"): ("resume",), ("weights_best.safetensors", "wrong-shape"): ("explain", "resume"),
             ("predictions.npz", "bad-indices"): ("explain",), ("predictions.npz", "bad-labels"): ("evaluate",)}
    root, ids = damaged_root(tmp_path, pristine, [(f, "garbage") for f in needs] + list(extra))
    for (fname, how), run_id in ids.items():
        before = digest(root / run_id)
        for command in needs[fname] if how == "garbage" else extra[(fname, how)]:
            rc, _, err = cli(capsys, *argv_for(command, root, run_id, tmp_path))
            assert rc == 2 and fname in err, (fname, command, rc, err)
        assert json.loads((root / run_id / "status.json").read_text())["status"] == "completed"  # a refused resume
        assert digest(root / run_id) == before  # writes nothing
    assert not (tmp_path / "MARKER").exists()


PAGE_NEEDS = {"results": ("predictions.npz",), "explain": ("weights_best.safetensors", "predictions.npz")}
PAGE_GROUPS = {how: [(f, how) for f in JSON_FILES + BINARY_FILES] for how in DAMAGES}
PAGE_GROUPS["wrong-types"] = [(f, k) for k, (f, _) in WRONG_TYPES.items()]
PAGE_GROUPS["wrong-values"] = WRONG_VALUES


def page_texts(at: AppTest) -> str:
    """Every error, warning, info and markdown text the page shows."""
    return "\n".join(str(e.value) for kind in (at.error, at.warning, at.info, at.markdown, at.caption) for e in kind)


def run_page(name: str, root: Path, monkeypatch, run_id: str | None = None) -> AppTest:
    """Run one page on `root` (with `run_id` chosen); no exception may reach the page."""
    monkeypatch.setenv("EXPLORER_RUNS", str(root))
    at = AppTest.from_file(page_path(name), default_timeout=120)
    if run_id:
        at.session_state["explorer_run_id"] = run_id
    at.run()
    assert not at.exception, (name, run_id, [e.value for e in at.exception])
    return at


@pytest.mark.parametrize("group", list(PAGE_GROUPS))
def test_pages_on_damaged_files(group, pristine, tmp_path, monkeypatch):
    """Results, Explain (each run chosen in turn), Draw, Compare runs and Train: no exception, unreadable
    runs named with their file, the good run still works, no code runs, the good run's files unchanged."""
    root, ids = damaged_root(tmp_path, pristine, PAGE_GROUPS[group])
    good = pristine[0].name
    before = digest(root / good)
    at = run_page("results", root, monkeypatch, good)
    assert next(m.value for m in at.metric if m.label == "Accuracy") == "96.54%"  # the good run's planted 251/260
    for (fname, how), run_id in ids.items():
        for page in ("results", "explain"):
            text = page_texts(run_page(page, root, monkeypatch, run_id))
            if unreadable_expected(fname, how):
                assert f"{run_id} cannot be read" in text and fname in text, (page, run_id, text[:800])
            if fname in PAGE_NEEDS[page]:  # the page reads this file for the chosen run: it says what is wrong
                assert fname in text, (page, run_id, text[:800])
    for page in ("draw", "compare_runs", "train"):
        text = page_texts(run_page(page, root, monkeypatch))
        for (fname, how), run_id in ids.items():
            if unreadable_expected(fname, how) and page != "train":
                assert run_id in text and fname in text, (page, run_id)
    assert not (tmp_path / "MARKER").exists()
    assert digest(root / good) == before


def test_case_count():
    """How many cases the suite tries (reported in the note): CLI cases x commands + page cases x pages."""
    cli_cases = len(CASES) * (1 + len(COMMANDS))
    page_cases = sum(len(v) for v in PAGE_GROUPS.values()) * 2 + len(PAGE_GROUPS) * 4
    assert (len(CASES), cli_cases, page_cases) == (46, 276, 116)
