"""Optuna searches: a search space from `--grid` items (a list -> categorical, lo:hi:n[:log] -> a
continuous range), a TPE sampler with a fixed seed, a median pruner fed with each epoch's
validation accuracy as the run's history grows, and a journal file in the sweep folder as storage.
"""

from __future__ import annotations

from typing import Any

from explorer.config import TrainConfig
from explorer.sweep.grid import parse_items, point_config
from explorer.sweep.queue import Sweep
from explorer.train.jobs import JobManager

JOURNAL = "optuna.journal"
MAX_TRIALS = 10_000


def parse_space(items: list[str]) -> dict[str, dict[str, Any]]:
    """Search space from name=values items: lists are categorical, lo:hi:n[:log] ranges continuous."""
    space: dict[str, dict[str, Any]] = {}
    for name, text, values in parse_items(items, "", "lr=0.001:0.1:5:log or transfer=frozen,finetune",
                                          "the search space"):
        if ":" in text and isinstance(values[0], int | float) and not isinstance(values[0], bool):
            kind = "int" if isinstance(values[0], int) else "float"
            space[name] = {"kind": kind, "lo": min(values), "hi": max(values), "log": text.strip().endswith("log")}
        else:
            space[name] = {"kind": "cat", "values": values}
    return space


def distributions(space: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Optuna distributions of a search space."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out: dict[str, Any] = {}
    for name, d in space.items():
        if d["kind"] == "cat":
            out[name] = CategoricalDistribution(list(d["values"]))
        elif d["kind"] == "int":
            out[name] = IntDistribution(int(d["lo"]), int(d["hi"]), log=bool(d["log"]))
        else:
            out[name] = FloatDistribution(float(d["lo"]), float(d["hi"]), log=bool(d["log"]))
    return out


def open_study(sweep: Sweep) -> Any:
    """The sweep's study (created on first use): maximise validation accuracy, TPE (seeded), median pruner."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    spec = sweep.spec
    storage = JournalStorage(JournalFileBackend(str(sweep.path / JOURNAL)))
    sampler = optuna.samplers.TPESampler(seed=int(spec.get("optuna_seed", 0)),
                                         n_startup_trials=int(spec.get("startup_trials", 5)))
    pruner = optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)
    return optuna.create_study(study_name=sweep.sweep_id, storage=storage, sampler=sampler, pruner=pruner,
                               direction="maximize", load_if_exists=True)


def _give_up_interrupted(sweep: Sweep, study: Any) -> None:
    """Trials left running by a driver that died are told FAIL and marked; the search goes on."""
    from optuna.trial import TrialState

    for item in sweep.items():
        if item.get("state") in ("running", "interrupted", "pending") and item.get("trial") is not None:
            t = study.trials[item["trial"]] if item["trial"] < len(study.trials) else None
            if t is not None and t.state == TrialState.RUNNING:
                study.tell(item["trial"], state=TrialState.FAIL)
            sweep.mark(item["index"], state="failed", error="the sweep driver stopped during this trial")


def _reporter(trial: Any) -> Any:
    """on_epoch for run_item: report new epochs' val_acc; True when the pruner says stop."""
    reported: set[int] = set()

    def on_epoch(history: list[dict[str, Any]]) -> bool:
        for i, row in enumerate(history):
            step = int(row.get("epoch", i + 1))
            if step not in reported and isinstance(row.get("val_acc"), int | float):
                trial.report(float(row["val_acc"]), step)
                reported.add(step)
        return bool(trial.should_prune())

    return on_epoch


def optuna_loop(sweep: Sweep, manager: JobManager, on_event: Any) -> None:
    """Ask, train, tell until `trials` trials are done or the sweep is paused or cancelled."""
    from optuna.trial import TrialState

    from explorer.sweep.runner import _best_val, run_item
    from explorer.train.loop import precheck

    spec, study = sweep.spec, open_study(sweep)
    base, dists = TrainConfig.from_dict(spec["base"]), distributions(spec["space"])
    _give_up_interrupted(sweep, study)
    while len(sweep.read()["items"]) < int(spec["trials"]):
        q = sweep.read()
        if q["paused"] or q["cancelled"]:
            return
        trial = study.ask(dists)
        point = {**trial.params, "seed": base.seed}
        index = sweep.add_item(point, trial=trial.number)
        item = {"index": index, "point": point, "run_id": None}
        try:
            cfg = precheck(point_config(base, point))
        except (ValueError, KeyError) as exc:
            study.tell(trial, state=TrialState.FAIL)
            sweep.mark(index, state="failed", error=str(exc.args[0] if exc.args else exc))
            continue
        state, run = run_item(sweep, manager, item, cfg, on_event, _reporter(trial))
        value = _best_val(run) if run is not None else None
        if state == "pending":  # paused or cancelled before it could start: the trial is given up
            sweep.mark(index, state="cancelled")
        if state == "completed" and value is not None:
            study.tell(trial, value)
        else:
            study.tell(trial, state=TrialState.PRUNED if state == "pruned" else TrialState.FAIL)
