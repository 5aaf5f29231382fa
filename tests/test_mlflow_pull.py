"""`runs pull`: runs pushed to MLflow come back bitwise (weights, metrics, history) through the checks of an
import; a folder store, a real `mlflow server` on 127.0.0.1, hostile artifacts and bad sources. Real files,
real MLflow stores, real processes; nothing of ours is mocked."""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
import time
from pathlib import Path

import pytest
import torch

from explorer.cli import main
from explorer.compare import build_comparison, load_run_data, side_by_side
from explorer.predict.core import predict_image
from explorer.runs import (
    RUN_FILES,
    clean_stale,
    list_runs,
    open_run,
    portable_files,
)
from explorer.runs.layout import HISTORY, METRICS, PREDICTIONS, WEIGHTS
from tests.fault_helpers import run_explorer
from tests.run_fixtures import make_run
from tests.servers import mlflow_server

mlflow = pytest.importorskip("mlflow", reason="mlflow not installed (optional extra: pip install mlflow)")

from explorer.export.mlflow import RUN_ID_TAG, push_run, tracking_uri  # noqa: E402
from explorer.export.mlflow_pull import pull_runs  # noqa: E402

BITWISE = (*WEIGHTS.values(), METRICS, HISTORY, PREDICTIONS)


def _tree(root: Path) -> dict[str, str]:
    """Every path under root (dot folders included) -> sha256 of its bytes ('' for a folder)."""
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): "" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))}


def _same_run(a: Path, b: Path) -> None:
    for name in BITWISE:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    ra, rb = open_run(a), open_run(b)
    assert ra.history() == rb.history() and ra.metrics() == rb.metrics()


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    """One local folder store for the module (MLflow migrates each new store: seconds); one experiment a test."""
    return str(tmp_path_factory.mktemp("mlstore"))


def test_push_then_pull_folder_store_is_bitwise_and_opens(tmp_path, capsys, store):
    run = make_run(tmp_path / "runs", epochs=3)
    pushed = push_run(run, store)
    root = tmp_path / "empty"
    results = pull_runs(store, root=root)
    assert [(r.outcome, r.run_id, r.mlflow_run_id) for r in results] == [("pulled", run.run_id, pushed.mlflow_run_id)]
    back = open_run(run.run_id, root)
    _same_run(run.path, back.path)
    assert sorted(p.name for p in back.path.iterdir()) == sorted(p.name for p in run.path.iterdir()
                                                                if p.name in RUN_FILES)
    origin = back.config["origin"]
    assert origin["from"] == "mlflow" and origin["mlflow_run_id"] == pushed.mlflow_run_id
    assert origin["experiment"] == "cnn-explorer" and origin["tracking_uri"] == str(Path(store).resolve())
    assert back.config["train"] == {**run.config["train"], "data": {**run.config["train"]["data"], "root": None}}
    preds = back.predictions()
    assert preds is not None and preds.y_prob.shape == run.predictions().y_prob.shape
    assert back.status["status"] == "completed"
    back.check_resumable()  # weights fit the model; the optimizer state loads (weights_only)
    x = torch.rand(1, 28, 28, generator=torch.Generator().manual_seed(0))  # Draw: the same letter, the same answer
    assert (predict_image(back.load_model(), x, back.classes).probs == predict_image(run.load_model(), x,
                                                                                       run.classes).probs).all()
    before = _tree(root)
    assert main(["runs", "--runs", str(root), "pull", "--mlflow", store]) == 0  # again: kept, not overwritten
    out = capsys.readouterr().out
    assert "already here; not overwritten" in out and "0 pulled, 1 already here, 0 refused" in out
    assert _tree(root) == before


# ---- a real mlflow server ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server():
    with mlflow_server() as uri:
        yield uri


def test_real_server_push_two_and_pull_via_cli(server, tmp_path):
    a = make_run(tmp_path / "runs", name="a", seed=0, epochs=2)
    b = make_run(tmp_path / "runs", name="b", seed=1, epochs=3)
    exp = f"pull-{tmp_path.name}"
    for r in (a, b):
        assert push_run(r, server, experiment=exp).created
    root = tmp_path / "elsewhere"
    t0 = time.monotonic()
    p = run_explorer(["runs", "--runs", str(root), "pull", "--mlflow", server, "--experiment", exp], timeout=120)
    assert p.returncode == 0, p.stderr
    assert "2 pulled, 0 already here, 0 refused" in p.stdout and p.stderr == "", (p.stdout, p.stderr)
    assert "Traceback" not in p.stdout and "INFO" not in p.stdout
    for r in (a, b):
        _same_run(r.path, root / r.run_id)
        assert open_run(r.run_id, root).config["origin"]["tracking_uri"] == server
    assert time.monotonic() - t0 < 60
    comp = build_comparison([load_run_data(r.run_id, root) for r in (a, b)])  # Compare opens them as any runs
    assert list(side_by_side(comp).columns) and len(comp.runs) == 2
    # --filter picks one; a run already here is reported and kept
    one = tmp_path / "one"
    got = pull_runs(server, exp, f"tags.`{RUN_ID_TAG}` = '{b.run_id}'", root=one)
    assert [(r.outcome, r.run_id) for r in got] == [("pulled", b.run_id)]
    assert [d.name for d in one.iterdir()] == [b.run_id]
    again = pull_runs(server, exp, root=root)
    assert sorted(r.outcome for r in again) == ["already here", "already here"]


# ---- hostile artifacts and bad sources --------------------------------------------------------------------------

def _hostile_runs(tmp_path: Path, store: str) -> dict[str, str]:
    """MLflow runs (experiment 'hostile') whose run artifacts are each damaged one way -> {case: MLflow run id}."""
    good = make_run(tmp_path / "src", epochs=2)
    client = mlflow.tracking.MlflowClient(tracking_uri(store))
    exp = client.create_experiment("hostile", artifact_location=(Path(store).resolve() / "artifacts").as_uri())
    witness = tmp_path / "witness"

    class Boom:
        def __reduce__(self):
            return (Path.touch, (witness,))

    cases: dict[str, str] = {}

    def log(case: str, mutate) -> None:
        folder = tmp_path / "cases" / case
        shutil.copytree(good.path, folder)
        mutate(folder)
        mid = client.create_run(exp, tags={RUN_ID_TAG: f"{good.run_id}-{case}"}).info.run_id
        client.log_artifacts(mid, str(folder), artifact_path="run")
        cases[case] = mid

    log("pickle", lambda f: (f / "evil.pkl").write_bytes(pickle.dumps(Boom())))
    log("pickle_as_optimizer", lambda f: (f / "optimizer_last.pt").write_bytes(pickle.dumps({"state": Boom()})))
    log("oversized", lambda f: (f / "config.json").write_text(
        json.dumps(json.loads((f / "config.json").read_text())) + " " * (2 << 20)))
    log("bad_config", lambda f: (f / "config.json").write_text("{not json"))
    log("folder", lambda f: (f / "sub").mkdir() or (f / "sub" / "x.json").write_text("{}"))
    log("bad_weights", lambda f: (f / "weights_best.safetensors").write_bytes(b"\x10" + b"\0" * 7 + b"{trunc"))
    mid = client.create_run(exp, tags={RUN_ID_TAG: "no-artifacts"}).info.run_id  # a push that never logged them
    cases["no_artifacts"] = mid
    mid = client.create_run(exp, tags={RUN_ID_TAG: "../escape"}).info.run_id
    cases["bad_id"] = mid
    return cases


def test_hostile_artifacts_are_refused_one_line_each_and_leave_runs_untouched(tmp_path, capsys, store):
    cases = _hostile_runs(tmp_path, store)
    root = tmp_path / "runs"
    mine = make_run(root, name="mine", epochs=2)  # a local run nothing may touch
    before = _tree(root)
    capsys.readouterr()  # the test's own MLflow client's lines
    assert main(["runs", "--runs", str(root), "pull", "--mlflow", store, "--experiment", "hostile"]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == len(cases) and "Traceback" not in err, err
    why = {case: next(ln for ln in lines if mid in ln) for case, mid in cases.items()}
    assert "'evil.pkl', which is not a run file" in why["pickle"]
    assert "optimizer_last.pt is not a valid .pt file" in why["pickle_as_optimizer"]
    assert "config.json is 2.0 MiB; a run's config.json is at most 1 MiB" in why["oversized"]
    assert "config.json is not a valid .json file" in why["bad_config"]
    assert "a folder 'sub'" in why["folder"]
    assert "weights_best.safetensors is not a valid .safetensors file" in why["bad_weights"]
    assert "no run/ artifacts" in why["no_artifacts"]
    assert "is not a safe run id" in why["bad_id"]
    assert "0 pulled, 0 already here, 8 refused" in out
    assert not (tmp_path / "witness").exists()  # nothing was unpickled
    assert _tree(root) == before and open_run(mine.run_id, root).metrics() == mine.metrics()


@pytest.mark.parametrize("name", ["../x", "a/../../b", "..", "/etc/passwd", "c:\\x", ""])
def test_listing_names_with_a_path_are_refused(name):
    with pytest.raises(ValueError, match="a name with a path in it"):
        portable_files([("config.json", False, 10), (name, False, 10)])


def test_listing_leaves_local_only_files_behind():
    take = portable_files([("config.json", False, 10), ("STOP", False, 0), ("worker.log", False, 99),
                           (".tmp-p1-x", False, 5), ("cache", True, 0), ("val_epochs", True, 0),
                           ("weights_best.safetensors", False, 100)])
    assert take == [("config.json", 10), ("weights_best.safetensors", 100)]


def test_bad_sources_are_one_line_exit_2_fast(tmp_path, capsys, store):
    root = tmp_path / "runs"
    mine = make_run(root, name="mine", epochs=1)
    before = _tree(root)
    push_run(mine, store, experiment="bad-sources")
    capsys.readouterr()
    for args, expect, limit in (
            (["--mlflow", "http://127.0.0.1:1"], "cannot reach the MLflow server http://127.0.0.1:1", 8.0),
            (["--mlflow", store, "--experiment", "nope"], "no experiment 'nope' at", 8.0),
            (["--mlflow", str(tmp_path / "nothing")], "no MLflow store at", 8.0),
            (["--mlflow", f"sqlite:///{tmp_path / 'nothing.db'}"], "(no such database file)", 8.0),
            (["--mlflow", "postgresql://me:s3cret@127.0.0.1:1/db"],
             "cannot reach the database server of the MLflow store postgresql://127.0.0.1:1/db", 8.0),
            (["--mlflow", "http://me:s3cret@127.0.0.1:1"], "cannot reach the MLflow server http://127.0.0.1:1 ", 8.0),
            (["--mlflow", "http://"], "bad MLflow URI 'http://': no host", 8.0),
            (["--mlflow", store, "--experiment", "bad-sources", "--filter", "params.x === 1"], "bad --filter", 8.0),
            (["--mlflow", store, "--run", "0123456789abcdef0123456789abcdef"], "no such MLflow run", 8.0)):
        t0 = time.monotonic()
        assert main(["runs", "--runs", str(root), "pull", *args]) == 2, args
        took = time.monotonic() - t0
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and expect in err and "Traceback" not in err and "s3cret" not in err, (args, err)
        assert took < limit, (args, took)
    assert _tree(root) == before
    assert not (tmp_path / "nothing").exists() and not (tmp_path / "nothing.db").exists()  # never creates a store


def test_pull_killed_before_its_rename_leaves_no_run_and_is_cleaned(tmp_path, store):
    run = make_run(tmp_path / "runs", epochs=1)
    push_run(run, store, experiment="killed")
    root = tmp_path / "pulled"
    p = run_explorer(["runs", "--runs", str(root), "pull", "--mlflow", store, "--experiment", "killed"], timeout=120,
                     EXPLORER_TEST_KILL_AT="create:staged")
    assert p.returncode == -9, (p.stdout, p.stderr)
    assert [d.name[:6] for d in root.iterdir()] == [".pull-"]  # staged, never a run
    assert [p.name[:6] for p in clean_stale(root)] == [".pull-"] and list(root.iterdir()) == []  # it goes
    assert list_runs(root) == []
    assert [r.outcome for r in pull_runs(store, "killed", root=root)] == ["pulled"]
    _same_run(run.path, root / run.run_id)
