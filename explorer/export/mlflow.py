"""Push saved runs to an MLflow tracking server (default: a local ./mlruns store).

Config -> params (flattened, dotted keys), history -> metrics with step = epoch, final metrics ->
metrics, the run folder -> artifacts. Each MLflow run is tagged with our run id; a run already
pushed to that experiment is found by that tag and not pushed again.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_URI = "./mlruns"
DEFAULT_EXPERIMENT = "cnn-explorer"
RUN_ID_TAG = "explorer.run_id"
INSTALL_HINT = "MLflow is not installed; it is an optional extra: pip install mlflow (or pip install 'cnn-explorer[mlflow]')"
MAX_PARAM_CHARS = 6000
CONNECT_TIMEOUT_S = 5.0  # a tracking server that does not accept a connection within this is unreachable
REQUEST_TIMEOUT_S, REQUEST_RETRIES = 30, 2  # then each HTTP request (MLflow's defaults: 120 s, 7 retries = 252 s)
PUSH_LOCK_WAIT_S = 120.0  # another push of this machine to the same store: wait for it this long


class MlflowMissingError(ImportError):
    """mlflow is not installed."""


@dataclass
class PushResult:
    """One pushed (or already present) run."""

    run_id: str
    mlflow_run_id: str
    created: bool
    params: int
    metric_points: int


def mlflow_available() -> bool:
    """True when mlflow can be imported."""
    import importlib.util

    return importlib.util.find_spec("mlflow") is not None


def _client(uri: str) -> Any:
    try:
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise MlflowMissingError(INSTALL_HINT) from None
    try:
        return MlflowClient(tracking_uri=tracking_uri(uri))
    except MlflowException as exc:
        raise ValueError(f"cannot open MLflow tracking store {uri!r}: {exc.message.splitlines()[0]}") from None


def _is_folder(uri: str) -> bool:
    return not ("://" in uri or uri.startswith(("file:", "sqlite:", "databricks", "postgresql", "mysql")))


def tracking_uri(uri: str | None) -> str:
    """A plain folder becomes a local store: sqlite <folder>/mlflow.db (MLflow 3 keeps its file store in
    maintenance mode and refuses it by default); server and database URIs pass unchanged."""
    uri = uri or DEFAULT_URI
    if not _is_folder(uri):
        return uri
    folder = Path(uri).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'mlflow.db'}"


def _artifact_location(uri: str | None) -> str | None:
    """For a local folder store: <folder>/artifacts; None lets the server choose."""
    uri = uri or DEFAULT_URI
    return (Path(uri).expanduser().resolve() / "artifacts").as_uri() if _is_folder(uri) else None


def flatten(d: Any, prefix: str = "") -> dict[str, str]:
    """Nested dicts/lists as {dotted.key: text}, values cut to MLflow's parameter limit."""
    out: dict[str, str] = {}
    if isinstance(d, dict):
        for k, v in d.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(d, (list, tuple)) and d and all(isinstance(v, dict) for v in d):
        for i, v in enumerate(d):
            out.update(flatten(v, f"{prefix}{i}."))
    else:
        out[prefix.rstrip(".")] = str(d)[:MAX_PARAM_CHARS]
    return out


def _metrics(run: Any) -> list[tuple[str, float, int]]:
    """(key, value, step): every numeric history field per epoch, then final test metrics at the last step."""
    import math

    points: list[tuple[str, float, int]] = []
    hist = run.history()
    for i, h in enumerate(hist):
        step = int(h.get("epoch", i + 1)) if isinstance(h.get("epoch", 0), (int, float)) else i + 1
        for k, v in h.items():
            if k not in ("epoch", "wall") and isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                points.append((k, float(v), step))
    last = points[-1][2] if points else 0
    for k, v in (run.metrics() or {}).items():
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            points.append((k if k.startswith("test_") else f"final_{k}", float(v), last))
    return points


def find_pushed(client: Any, experiment_id: str, run_id: str) -> str | None:
    """The MLflow run id already holding our run, or None."""
    found = client.search_runs([experiment_id], filter_string=f"tags.`{RUN_ID_TAG}` = '{run_id}'", max_results=1)
    return found[0].info.run_id if found else None


def _experiment(client: Any, name: str, uri: str | None) -> str:
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    try:
        return client.create_experiment(name, artifact_location=_artifact_location(uri))
    except Exception:  # created meanwhile by another push (RESOURCE_ALREADY_EXISTS): use it
        exp = client.get_experiment_by_name(name)
        if exp is None:
            raise
        return exp.experiment_id


DB_PORTS = {"postgresql": 5432, "mysql": 3306, "mssql": 1433}  # database stores: their servers' default ports


def shown_uri(uri: str) -> str:
    """A tracking URI fit to print or record: a folder absolute, a password never."""
    from urllib.parse import urlsplit, urlunsplit

    if _is_folder(uri):
        return str(Path(uri).expanduser().resolve())
    parts = urlsplit(uri)
    if parts.username or parts.password:
        host = parts.hostname or ""
        parts = parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host)
    return urlunsplit(parts)


def check_reachable(uri: str | None) -> None:
    """For an http(s) tracking URI (or a database store's server): ValueError unless its host accepts a
    connection within CONNECT_TIMEOUT_S."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(uri or "")
    scheme = parts.scheme.split("+")[0]
    if scheme in ("http", "https"):
        port, what = parts.port or (443 if scheme == "https" else 80), "the MLflow server"
        advice = "start it (mlflow server ...) or check the URI"
    elif scheme in DB_PORTS and parts.hostname:
        port, what = parts.port or DB_PORTS[scheme], "the database server of the MLflow store"
        advice = "start it or check the URI"
    else:
        return
    try:
        socket.create_connection((parts.hostname or "localhost", port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise ValueError(f"cannot reach {what} {shown_uri(uri or '')} within {CONNECT_TIMEOUT_S:g} s "
                         f"({exc.strerror or type(exc).__name__}); {advice}") from None


def check_folder_store(uri: str | None) -> None:
    """For a local folder store: ValueError unless the folder can be written and its mlflow.db is a file."""
    target = uri or DEFAULT_URI
    if not _is_folder(target):
        return
    from explorer.io import ensure_writable_folder

    folder = Path(target).expanduser()
    try:
        ensure_writable_folder(folder)
    except OSError as exc:
        raise ValueError(f"cannot write the MLflow store {folder}: {exc.strerror or exc}; choose a folder you can "
                         "write to (--mlflow)") from None
    db = folder / "mlflow.db"
    if db.exists() and not db.is_file():
        raise ValueError(f"cannot open the MLflow store {folder}: {db} is not a database file; move it away")


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "message", "") or exc).strip()
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:300]
    return type(exc).__name__


def push_run(ref: Any, uri: str | None = None, experiment: str = DEFAULT_EXPERIMENT,
             root: str | os.PathLike | None = None) -> PushResult:
    """Log one run (params, metrics with steps, artifacts) unless it is already in the experiment: one MLflow
    run per explorer run, also when several pushes run at once (one push per store at a time on this machine,
    and a check after create that keeps the first). Every failure is one ValueError line (an unreachable server
    within CONNECT_TIMEOUT_S, a store that cannot be written, ...)."""
    from explorer import locks
    from explorer.runs import open_run

    run = open_run(ref, root)
    bound_requests()
    check_reachable(uri)
    check_folder_store(uri)
    try:
        lock = locks.acquire_named(f"mlflow-{tracking_uri_key(uri)}", wait_s=PUSH_LOCK_WAIT_S)
    except locks.DeviceBusyError:
        raise ValueError(f"another push to {uri or DEFAULT_URI} has held it for {PUSH_LOCK_WAIT_S:g} s; "
                         "try again when it ends") from None
    try:
        with quiet_mlflow():
            return _push(run, uri, experiment)
    except (MlflowMissingError, ValueError):
        raise
    except Exception as exc:  # mlflow, sqlalchemy, requests, OS: the store failed; one line, not a traceback
        raise ValueError(f"MLflow push of {run.run_id} to {uri or DEFAULT_URI} failed: {type(exc).__name__}: "
                         f"{_first_line(exc)}") from None
    finally:
        lock.release()


def bound_requests() -> None:
    """Bounded HTTP requests (REQUEST_TIMEOUT_S, REQUEST_RETRIES) and no progress bars; a user's own setting wins."""
    for key, value in (("MLFLOW_HTTP_REQUEST_TIMEOUT", REQUEST_TIMEOUT_S),
                       ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", REQUEST_RETRIES),
                       ("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")):
        os.environ.setdefault(key, str(value))


@contextmanager
def quiet_mlflow() -> Iterator[None]:
    """MLflow's log lines (its store's migrations too), warnings and prints held back: a failure is said once, by us."""
    import importlib
    import logging
    import warnings

    with suppress(ImportError):
        importlib.import_module("mlflow")  # its import sets its loggers' levels: set ours after it
    loggers = [logging.getLogger(n) for n in ("mlflow", "alembic")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), redirect_stdout(io.StringIO()):  # its "View run at" lines: ours say it
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def tracking_uri_key(uri: str | None) -> str:
    """A short stable name of a tracking store (for its push lock)."""
    import hashlib

    target = uri or DEFAULT_URI
    target = str(Path(target).expanduser().resolve()) if _is_folder(target) else target
    return hashlib.sha256(target.encode()).hexdigest()[:16]


def _dedupe(client: Any, exp_id: str, run_id: str, mine: str) -> str:
    """After creating `mine`: the one MLflow run that holds `run_id` (the first created); a later twin is deleted."""
    found = client.search_runs([exp_id], filter_string=f"tags.`{RUN_ID_TAG}` = '{run_id}'", max_results=50)
    if len(found) <= 1:
        return mine
    keep = min(found, key=lambda r: (r.info.start_time, r.info.run_id)).info.run_id
    if keep != mine:
        client.delete_run(mine)
    return keep


def _push(run: Any, uri: str | None, experiment: str) -> PushResult:
    from mlflow.entities import Metric, Param

    client = _client(uri)
    exp_id = _experiment(client, experiment, uri)
    existing = find_pushed(client, exp_id, run.run_id)
    if existing:
        return PushResult(run.run_id, existing, False, 0, 0)
    rec = run.record
    params = flatten({k: v for k, v in rec.config().items() if k not in ("run_id", "classes")})
    points = _metrics(run)
    status = run.status.get("status", "")
    tags = {RUN_ID_TAG: run.run_id, "mlflow.runName": rec.name, "explorer.status": status,
            **{f"explorer.tag.{t}": "1" for t in rec.tags}}
    mrun = client.create_run(exp_id, tags=tags)
    mid = mrun.info.run_id
    keep = _dedupe(client, exp_id, run.run_id, mid)  # a push of another machine got there first
    if keep != mid:
        return PushResult(run.run_id, keep, False, 0, 0)
    try:
        ts = int(mrun.info.start_time)
        items = list(params.items())
        for i in range(0, len(items), 100):  # MLflow's batch limit is 100 params
            client.log_batch(mid, params=[Param(k, v) for k, v in items[i:i + 100]])
        ms = [Metric(k, v, ts, s) for k, v, s in points]
        for i in range(0, len(ms), 1000):
            client.log_batch(mid, metrics=ms[i:i + 1000])
        client.log_artifacts(mid, str(run.path), artifact_path="run")
    except BaseException:
        client.set_terminated(mid, "FAILED")
        raise
    client.set_terminated(mid, "FINISHED" if status in ("completed", "") else "KILLED")
    return PushResult(run.run_id, mid, True, len(params), len(points))
