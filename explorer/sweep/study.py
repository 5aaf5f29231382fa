"""Sweeps shared by many machines on Optuna's storage (`explorer sweep ... --storage URL`, `explorer sweep work`).

A shared sweep is an Optuna study in any Optuna storage: an RDB URL (postgresql://, mysql://, sqlite:///) or
`journal:PATH` (a journal file on a shared filesystem). The study's user attribute "explorer_sweep" holds what
to train (the base TrainConfig, the grid's points or the search space, the number of trials), checked like any
untrusted file when a worker loads it. One mechanism hands out work for both kinds: grids through Optuna's
GridSampler over the grid's point numbers, searches through the seeded TPE sampler and median pruner of local
searches. Each worker (`sweep work NAME --storage URL`, one per machine or GPU) asks for a trial, trains it in
its own runs folder and tells the result; each trial records its run id, machine and device as user attributes.

A worker killed mid-trial: on RDB storages its trial goes to FAIL through Optuna's heartbeat (heartbeat_interval,
fail_stale_trials, called by the next trial of any worker) and RetryHeartbeatStaleTrialCallback gives it back once as a
WAITING trial with the same point; a worker with nothing to hand out waits while others still run trials, so a
retried point is never left behind. Journal storages have no heartbeat in Optuna 5: a dead worker's trial stays
RUNNING there (say so; use an RDB storage to survive deaths). A grid point is trained once: a worker that is
handed a point another trial already holds (GridSampler's documented race) gives it up as a duplicate.
Without `--storage`, sweeps stay the local queue of explorer.sweep.queue.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explorer.config import TrainConfig
from explorer.sweep.grid import Grid, point_config, point_text

SPEC_ATTR = "explorer_sweep"
SPEC_VERSION = 1
MAX_POINTS = 10_000
RDB_SCHEMES = ("postgresql", "mysql", "sqlite")
CONNECT_TIMEOUT_S = 5  # a server that does not answer: one line after this long, not a hang
HEARTBEAT_S = float(os.environ.get("EXPLORER_STUDY_HEARTBEAT_S", "10"))  # tests shorten both
GRACE_S = float(os.environ.get("EXPLORER_STUDY_GRACE_S", "60"))
WAIT_S = 2.0  # a worker with nothing to hand out looks again after this long
URL_HELP = ("use postgresql://USER:PASSWORD@HOST:PORT/DB, mysql://USER:PASSWORD@HOST/DB, sqlite:///PATH.db "
            "or journal:PATH (a journal file on a shared filesystem)")

Event = Callable[[str], None]
AfterRun = Callable[[Any], "str | None"]


class StudyError(ValueError):
    """A storage or study problem, said in one line (the CLI prints it and exits 2)."""


def safe_url(url: str) -> str:
    """The URL with its password hidden (for messages, run configs and the page)."""
    if url.startswith("journal:"):
        return url
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL sqlalchemy can read: show its scheme only
        return url.split("://", 1)[0] + "://..."


def open_storage(url: str) -> Any:
    """The Optuna storage of `url` (StudyError naming the fix for an unknown kind or an unreachable server)."""
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)  # heartbeats are stable enough
    if not isinstance(url, str) or not url.strip():
        raise StudyError(f"no storage URL given; {URL_HELP}")
    if url.startswith("journal:"):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        path = Path(url[len("journal:"):]).expanduser()
        if not path.parent.is_dir():
            raise StudyError(f"journal storage {path}: its folder {path.parent} does not exist")
        try:
            return JournalStorage(JournalFileBackend(str(path)))
        except OSError as exc:
            raise StudyError(f"journal storage {path}: {exc.strerror or exc}") from None
    scheme = url.split("://", 1)[0].split("+", 1)[0] if "://" in url else ""
    if scheme not in RDB_SCHEMES:
        raise StudyError(f"unsupported storage URL {safe_url(url)!r}; {URL_HELP}")
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    connect = {"timeout": 30} if scheme == "sqlite" else {"connect_timeout": CONNECT_TIMEOUT_S}
    try:
        return RDBStorage(url, engine_kwargs={"connect_args": connect, "pool_pre_ping": True},
                          heartbeat_interval=max(1, int(HEARTBEAT_S)), grace_period=max(2, int(GRACE_S)),
                          heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1))
    except Exception as exc:  # sqlalchemy's errors: unreachable, wrong password, missing driver, bad database
        raise StudyError(f"cannot open the study storage {safe_url(url)}: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    """The first line of a database error, without sqlalchemy's background links."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = next((t.strip() for t in text if t.strip()), type(exc).__name__)
    if isinstance(exc, ModuleNotFoundError) or "DB access module" in first:
        return f"{first} (pip install -e '.[shared]' gives PostgreSQL's driver; MySQL needs pymysql)"
    return first[:300]


# ---------------------------------------------------------------------------------------------
# The spec a study carries: what to train


def grid_spec(base: TrainConfig, grid: Grid) -> dict[str, Any]:
    """A grid sweep's spec: the base config and every point, in order."""
    points = list(grid.points(base.seed))
    if len(points) > MAX_POINTS:
        raise StudyError(f"the grid has {len(points):,} points; a shared sweep takes at most {MAX_POINTS:,}")
    return {"version": SPEC_VERSION, "kind": "grid", "base": base.to_dict(), "points": points,
            "trials": len(points)}


def search_spec(base: TrainConfig, space: dict[str, Any], trials: int, seed: int) -> dict[str, Any]:
    """An Optuna search's spec: the base config, the search space, the number of trials and the sampler seed."""
    if isinstance(trials, bool) or not isinstance(trials, int) or not 1 <= trials <= MAX_POINTS:
        raise StudyError(f"trials must be a whole number 1..{MAX_POINTS}, got {trials!r}")
    return {"version": SPEC_VERSION, "kind": "optuna", "base": base.to_dict(), "space": space, "trials": trials,
            "optuna_seed": int(seed)}


def check_spec(spec: Any, name: str) -> dict[str, Any]:
    """A study's spec as read from the storage, checked (untrusted: another program may have written it)."""
    from explorer.sweep.optuna_search import distributions

    where = f"study {name!r}"
    if not isinstance(spec, dict):
        raise StudyError(f"{where} is not an explorer sweep (no {SPEC_ATTR!r} attribute); pick another --name")
    if spec.get("version") != SPEC_VERSION:
        raise StudyError(f"{where} was made by another version of explorer ({spec.get('version')!r})")
    kind = spec.get("kind")
    trials = spec.get("trials")
    if kind not in ("grid", "optuna") or isinstance(trials, bool) or not isinstance(trials, int) \
            or not 1 <= trials <= MAX_POINTS:
        raise StudyError(f"{where}: its spec is damaged (kind {kind!r}, trials {trials!r})")
    try:
        base = TrainConfig.from_dict(spec.get("base"))
        if kind == "grid":
            points = spec.get("points")
            if not isinstance(points, list) or len(points) != trials or not all(isinstance(p, dict) for p in points):
                raise ValueError("its points are not a list of settings")
            for p in points:
                point_config(base, p).validate()
        else:
            distributions(spec.get("space") or {})
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise StudyError(f"{where}: its spec is damaged ({exc})") from None
    return spec


# ---------------------------------------------------------------------------------------------
# Studies


def _sampler(spec: dict[str, Any]) -> Any:
    import optuna

    if spec["kind"] == "grid":
        return optuna.samplers.GridSampler({"point": list(range(len(spec["points"])))}, seed=0)
    return optuna.samplers.TPESampler(seed=int(spec.get("optuna_seed", 0)), n_startup_trials=5)


def create_study(url: str, name: str, spec: dict[str, Any]) -> Any:
    """Create the shared study NAME holding `spec`, or join it when it holds the same spec (StudyError when a
    study of that name holds another sweep, e.g. a grid where a search is asked for)."""
    import optuna

    if not name or len(name) > 120:
        raise StudyError("a shared sweep needs --name NAME (1 to 120 characters): the study's name")
    storage = open_storage(url)
    try:
        study = optuna.create_study(study_name=name, storage=storage, direction="maximize", load_if_exists=True,
                                    sampler=_sampler(spec), pruner=optuna.pruners.MedianPruner(2, 1))
        held = study.user_attrs.get(SPEC_ATTR)
        if held is None and not study.trials:
            study.set_user_attr(SPEC_ATTR, spec)
            return study
    except StudyError:
        raise
    except Exception as exc:
        raise StudyError(f"cannot create study {name!r} in {safe_url(url)}: {_reason(exc)}") from None
    if held != spec:
        kind = held.get("kind") if isinstance(held, dict) else "not an explorer sweep"
        raise StudyError(f"study {name!r} in {safe_url(url)} already holds another sweep ({kind}, "
                         f"{held.get('trials') if isinstance(held, dict) else '?'} trials); pick another --name")
    return study


def load_study(url: str, name: str) -> tuple[Any, dict[str, Any]]:
    """(study, checked spec) of the shared sweep NAME (StudyError when missing, foreign or damaged)."""
    import optuna

    storage = open_storage(url)
    try:
        names = [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]
    except Exception as exc:
        raise StudyError(f"cannot read the studies in {safe_url(url)}: {_reason(exc)}") from None
    if name not in names:
        raise StudyError(f"no study {name!r} in {safe_url(url)} (there: {', '.join(names[:8]) or 'none'}); "
                         "start one with `explorer sweep --grid ... --storage URL --name NAME`")
    study = optuna.load_study(study_name=name, storage=storage, sampler=None, pruner=None)
    spec = check_spec(study.user_attrs.get(SPEC_ATTR), name)
    study.sampler = _sampler(spec)
    study.pruner = optuna.pruners.MedianPruner(2, 1)
    return study, spec


def list_studies(url: str) -> list[dict[str, Any]]:
    """Every study in the storage: name, kind (None for a study explorer did not make) and its progress."""
    import optuna

    storage = open_storage(url)
    try:
        out = []
        for s in optuna.get_all_study_summaries(storage, include_best_trial=False):
            spec = s.user_attrs.get(SPEC_ATTR)
            out.append({"name": s.study_name, "kind": spec.get("kind") if isinstance(spec, dict) else None,
                        "trials": s.n_trials})
        return out
    except Exception as exc:
        raise StudyError(f"cannot read the studies in {safe_url(url)}: {_reason(exc)}") from None


# ---------------------------------------------------------------------------------------------
# Progress: what the panel and `sweep show` print


@dataclass
class Progress:
    """A shared sweep's state: counts, the best trial so far, and one row per trial."""

    kind: str
    total: int
    done: int = 0
    running: int = 0
    waiting: int = 0
    failed: int = 0
    pruned: int = 0
    retried: int = 0
    best_value: float | None = None
    best_run: str | None = None
    finished: bool = False
    can_hand_out: bool = True
    rows: list[dict[str, Any]] = field(default_factory=list)


def _point_of(trial: Any, spec: dict[str, Any]) -> dict[str, Any]:
    if spec["kind"] == "grid":
        i = trial.params.get("point")
        if i is None:
            i = trial.system_attrs.get("grid_id")
        return dict(spec["points"][i]) if isinstance(i, int) and 0 <= i < len(spec["points"]) else {}
    return dict(trial.params)


def progress(study: Any, spec: dict[str, Any]) -> Progress:
    """Counts and rows of a shared sweep, and whether it is finished or has work to hand out."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    p = Progress(spec["kind"], int(spec["trials"]))
    settled: set[int] = set()
    busy: set[int] = set()
    for t in trials:
        dup = bool(t.user_attrs.get("duplicate"))
        key = t.params.get("point", t.system_attrs.get("grid_id"))
        if t.state == TrialState.COMPLETE:
            p.done += 1
            if p.best_value is None or (t.value is not None and t.value > p.best_value):
                p.best_value, p.best_run = t.value, t.user_attrs.get("run_id")
        elif t.state == TrialState.RUNNING:
            p.running += 1
        elif t.state == TrialState.WAITING:
            p.waiting += 1
        elif t.state == TrialState.FAIL:
            p.failed += 1
        elif t.state == TrialState.PRUNED and not dup:
            p.pruned += 1
        if "failed_trial" in t.system_attrs:
            p.retried += 1
        if not dup and isinstance(key, int):
            (busy if t.state in (TrialState.RUNNING, TrialState.WAITING) else settled).add(key)
        p.rows.append({"trial": t.number, "state": "duplicate" if dup else t.state.name.lower(),
                       "point": point_text(_point_of(t, spec)), "val_acc": t.value,
                       "run_id": t.user_attrs.get("run_id"), "machine": t.user_attrs.get("machine"),
                       "device": t.user_attrs.get("device"),
                       "retry_of": t.system_attrs.get("failed_trial"), "error": t.user_attrs.get("error")})
    if spec["kind"] == "grid":
        n = len(spec["points"])
        p.finished = not busy and settled >= set(range(n))
        p.can_hand_out = p.waiting > 0 or bool(set(range(n)) - settled - busy)
    else:
        ended = p.done + p.failed + p.pruned
        p.finished = ended >= p.total and not p.running and not p.waiting
        p.can_hand_out = p.waiting > 0 or ended + p.running < p.total
    return p


def progress_text(p: Progress) -> str:
    """One line: 'grid: 3 of 4 done, 1 running, 0 failed (1 retried), best val 0.4231 (RUN)'."""
    best = f", best val {p.best_value:.4f} ({p.best_run})" if p.best_value is not None else ""
    state = "finished" if p.finished else "in progress"
    return (f"{p.kind}: {p.done} of {p.total} done, {p.running} running, {p.waiting} waiting, {p.failed} failed "
            f"({p.retried} retried), {p.pruned} pruned; {state}{best}")


# ---------------------------------------------------------------------------------------------
# A worker


def _suggest(trial: Any, spec: dict[str, Any]) -> tuple[int | None, dict[str, Any]]:
    """(grid point number or None, the point's settings) of a trial."""
    if spec["kind"] == "grid":
        i = trial.suggest_categorical("point", list(range(len(spec["points"]))))
        return int(i), dict(spec["points"][int(i)])
    point: dict[str, Any] = {}
    for name, d in spec["space"].items():
        if d["kind"] == "cat":
            point[name] = trial.suggest_categorical(name, list(d["values"]))
        elif d["kind"] == "int":
            point[name] = trial.suggest_int(name, int(d["lo"]), int(d["hi"]), log=bool(d["log"]))
        else:
            point[name] = trial.suggest_float(name, float(d["lo"]), float(d["hi"]), log=bool(d["log"]))
    return None, point


def _taken(study: Any, trial: Any, index: int) -> int | None:
    """The number of another live or finished trial that holds grid point `index` first, if any."""
    from optuna.trial import TrialState

    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.COMPLETE)):
        if t.number == trial.number or t.user_attrs.get("duplicate"):
            continue
        if t.params.get("point", t.system_attrs.get("grid_id")) == index and (
                t.state == TrialState.COMPLETE or t.number < trial.number):
            return t.number
    return None


class _Pruned(Exception):
    """The pruner stopped this trial after an epoch."""


def _objective(study: Any, spec: dict[str, Any], name: str, url: str, root: str | None, device: str | None,
               after_run: AfterRun | None, say: Event, taken: list[int]) -> Callable[[Any], float]:
    import optuna

    from explorer.devices import device_label, resolve_device
    from explorer.locks import DeviceBusyError
    from explorer.train.job import train
    from explorer.train.loop import StopRequested, precheck

    base = TrainConfig.from_dict(spec["base"])

    def objective(trial: Any) -> float:
        taken.append(trial.number)
        index, point = _suggest(trial, spec)
        if index is not None and (first := _taken(study, trial, index)) is not None:
            trial.set_user_attr("duplicate", True)
            raise optuna.TrialPruned(f"point {index} is held by trial {first}")
        cfg = point_config(base, point)
        if device:
            cfg = cfg.replace(device=device)
        trial.set_user_attr("machine", socket.gethostname())
        trial.set_user_attr("device", device_label(resolve_device(cfg.device)))
        say(f"trial {trial.number}: {point_text(point)}")
        try:
            cfg = precheck(cfg)
        except (ValueError, KeyError) as exc:
            trial.set_user_attr("error", str(exc.args[0] if exc.args else exc)[:500])
            raise
        pruned: list[bool] = []

        def callback(event: str, info: dict[str, Any]) -> None:
            if event == "start" and info.get("run_id"):
                trial.set_user_attr("run_id", info["run_id"])
            elif event == "epoch_end" and isinstance(info.get("val_acc"), int | float):
                trial.report(float(info["val_acc"]), int(info.get("epoch", 1)))
                if spec["kind"] == "optuna" and trial.should_prune():
                    pruned.append(True)
                    raise StopRequested()

        outcome: dict[str, Any] = {}
        meta = {"id": name, "index": index if index is not None else trial.number, "point": point,
                "storage": safe_url(url), "trial": trial.number}
        try:
            run = train(cfg, root, callback=callback, name=f"{name} #{meta['index']}", outcome=outcome,
                        tags=[f"sweep-{name}"], sweep=meta)
        except DeviceBusyError:
            study.enqueue_trial({"point": index} if index is not None else point)  # the point goes back
            trial.set_user_attr("duplicate", True)
            raise optuna.TrialPruned("the device is busy; the point was given back") from None
        if run is not None:
            trial.set_user_attr("run_id", run.run_id)
        if pruned:
            raise optuna.TrialPruned()
        if outcome.get("status") != "completed" or run is None:
            trial.set_user_attr("error", str(outcome.get("error") or outcome.get("status"))[:500])
            raise RuntimeError(f"the run ended {outcome.get('status')}: {outcome.get('error')}")
        value = max((h.get("val_acc") for h in run.history() if isinstance(h.get("val_acc"), int | float)),
                    default=None)
        if after_run is not None:
            _after(run, after_run, trial, say)
        if value is None:
            raise RuntimeError("the run recorded no validation accuracy")
        return float(value)

    return objective


def _after(run: Any, after_run: AfterRun, trial: Any, say: Event) -> None:
    """Hand a finished trial's run on (e.g. push it to MLflow); a failure is said and recorded on the trial, and
    the trial still counts (the run stays in this worker's runs folder)."""
    try:
        where = after_run(run)
        if where:
            trial.set_user_attr("pushed", where[:300])
    except Exception as exc:  # MLflow down: the run stays local, the worker goes on
        trial.set_user_attr("push_error", str(exc)[:300])
        say(f"could not hand on {run.run_id}: {exc}")


def work(url: str, name: str, root: str | os.PathLike | None = None, device: str | None = None,
         after_run: AfterRun | None = None, say: Event = print, max_trials: int | None = None) -> Progress:
    """Take trials of the shared sweep NAME until it is finished (or `max_trials` were taken here); `after_run`
    gets each completed run (the CLI's --mlflow pushes it) and returns where it went."""
    from optuna.storages import fail_stale_trials
    from optuna.storages._heartbeat import is_heartbeat_enabled

    study, spec = load_study(url, name)
    if device:
        from explorer.devices import resolve_device

        resolve_device(device)  # a device this machine does not have: refused before any trial is taken
    taken: list[int] = []  # the trials this worker took
    objective = _objective(study, spec, name, url, str(root) if root is not None else None, device, after_run,
                           say, taken)
    if not is_heartbeat_enabled(study._storage):
        say("note: this storage has no heartbeat (a journal file): a worker that dies leaves its trial running; "
            "use a database storage (postgresql://...) for sweeps that must survive a dead worker")
    while max_trials is None or len(taken) < max_trials:
        if is_heartbeat_enabled(study._storage):
            fail_stale_trials(study)  # trials of dead workers go to FAIL; each is retried once (WAITING)
        p = progress(study, spec)
        if p.finished:
            break
        if not p.can_hand_out:  # the last points are running elsewhere: wait, they may come back
            time.sleep(WAIT_S)
            continue
        before = len(taken)
        study.optimize(objective, n_trials=1, catch=(Exception,), gc_after_trial=False)
        if len(taken) == before:  # the study stopped before asking (GridSampler: the grid is exhausted)
            continue
        last = study._storage.get_trial(study._storage.get_trial_id_from_study_id_trial_number(
            study._study_id, taken[-1]))
        state = "duplicate" if last.user_attrs.get("duplicate") else last.state.name.lower()
        say(f"trial {last.number}: {state}" + (f", val {last.value:.4f}" if last.value is not None else "")
            + (f" ({last.user_attrs['run_id']})" if last.user_attrs.get("run_id") else "")
            + (f": {last.user_attrs['error']}" if last.user_attrs.get("error") else ""))
    p = progress(study, spec)
    say(progress_text(p))
    return p
