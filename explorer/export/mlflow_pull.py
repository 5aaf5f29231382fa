"""Pull runs pushed to MLflow (explorer.export.mlflow) back into the local runs folder.

Each MLflow run tagged with our run id holds the run folder as artifacts under "run". Its listing is
checked first (run files only, within an import's size caps; what only a local run folder holds is left
behind), the run files are downloaded into a temporary folder inside the runs root, and that folder is
admitted through the checks of `runs import` (explorer.runs.admit_staged). A run already here (same run
id) is reported, never overwritten; a refused run leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from explorer.export.mlflow import (
    DEFAULT_EXPERIMENT,
    DEFAULT_URI,
    RUN_ID_TAG,
    _client,
    _first_line,
    _is_folder,
    bound_requests,
    check_reachable,
    quiet_mlflow,
    shown_uri,
)

ARTIFACT_PATH = "run"  # where push_run logs the run folder
MAX_PULL_RUNS = 10_000  # runs one search brings at most
PAGE = 500


@dataclass
class PullResult:
    """One MLflow run and what became of it: pulled, already here, refused (why) or not ours."""

    mlflow_run_id: str
    run_id: str
    outcome: str  # "pulled" | "already here" | "refused" | "not ours"
    detail: str = ""


def _check_source(uri: str) -> None:
    """ValueError (one line) for a URI that names no store: a folder without mlflow.db, an http URI without a
    host, a server that does not answer."""
    from urllib.parse import urlsplit

    if _is_folder(uri):
        db = Path(uri).expanduser() / "mlflow.db"
        if not db.is_file():
            raise ValueError(f"no MLflow store at {uri} (no {db.name} there); give the --mlflow of a store that runs "
                             "were pushed to (a folder, sqlite:///..., or http://host:5000)")
        return
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        raise ValueError(f"no MLflow store at {uri} (no such database file); give the --mlflow of a store that runs "
                         "were pushed to")
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https") and not parts.hostname:
        raise ValueError(f"bad MLflow URI {uri!r}: no host; give http://host:port")
    check_reachable(uri)


def _experiment_id(client: Any, name: str, uri: str) -> str:
    exp = client.get_experiment_by_name(name)
    if exp is None:
        names = sorted(e.name for e in client.search_experiments(max_results=20))
        there = ", ".join(names) if names else "none"
        raise ValueError(f"no experiment {name!r} at {uri}; experiments there: {there} (--experiment)")
    return exp.experiment_id


def _search(client: Any, exp_id: str, filter_string: str | None) -> list[Any]:
    found: list[Any] = []
    token = None
    while len(found) < MAX_PULL_RUNS:
        try:
            page = client.search_runs([exp_id], filter_string=filter_string or "", max_results=PAGE, page_token=token)
        except Exception as exc:  # MlflowException INVALID_PARAMETER_VALUE for a bad filter
            if filter_string:
                raise ValueError(f"bad --filter {filter_string!r}: {_first_line(exc)}") from None
            raise
        found.extend(page)
        token = getattr(page, "token", None)
        if not token:
            break
    return found[:MAX_PULL_RUNS]


def pull_runs(uri: str | None = None, experiment: str | None = None, filter_string: str | None = None,
              run_ids: list[str] | tuple[str, ...] = (), root: str | os.PathLike | None = None) -> list[PullResult]:
    """Bring runs pushed to an MLflow store back into the runs root: the runs of `experiment` (default
    cnn-explorer) matching `filter_string` (MLflow's search syntax), or the MLflow runs `run_ids`. One
    PullResult per MLflow run; a bad URI, an unreachable server, an unknown experiment or a bad filter is one
    ValueError line, and nothing local is touched by any failure."""
    from explorer.io import DiskFullError
    from explorer.runs import existing_runs_root

    target = uri or DEFAULT_URI
    bound_requests()
    _check_source(target)
    root_p = existing_runs_root(root)
    with quiet_mlflow():
        try:
            client = _client(target)
            if run_ids:
                runs: list[Any] = []
                results: list[PullResult] = []
                for rid in run_ids:
                    try:
                        runs.append(client.get_run(rid))
                    except Exception as exc:  # RESOURCE_DOES_NOT_EXIST, a malformed id
                        results.append(PullResult(rid, "", "refused", f"no such MLflow run ({_first_line(exc)})"))
            else:
                name = experiment or DEFAULT_EXPERIMENT
                runs, results = _search(client, _experiment_id(client, name, shown_uri(target)), filter_string), []
            exp_names: dict[str, str] = {}
            for mrun in runs:
                results.append(_pull_one(client, mrun, root_p, target, exp_names, bool(run_ids)))
            return results
        except (ValueError, DiskFullError):
            raise
        except Exception as exc:  # mlflow, sqlalchemy, requests: the store failed; one line
            raise ValueError(f"MLflow pull from {shown_uri(target)} failed: {type(exc).__name__}: {_first_line(exc)}") from None


def _exp_name(client: Any, exp_id: str, cache: dict[str, str]) -> str:
    if exp_id not in cache:
        try:
            cache[exp_id] = client.get_experiment(exp_id).name
        except Exception:  # only recorded as the run's origin
            cache[exp_id] = exp_id
    return cache[exp_id]


def _pull_one(client: Any, mrun: Any, root_p: Path, uri: str, exp_names: dict[str, str], asked: bool) -> PullResult:
    """Pull one MLflow run (its listing checked before anything is downloaded); refusals are results."""
    from explorer.io import DiskFullError, safe_name, temp_prefix
    from explorer.runs import CONFIG, admit_staged, portable_files

    mid = mrun.info.run_id
    run_id = (mrun.data.tags or {}).get(RUN_ID_TAG)
    if not run_id:
        if asked:
            return PullResult(mid, "", "refused", f"not a run pushed by CNN Explorer (no {RUN_ID_TAG} tag)")
        return PullResult(mid, "", "not ours", f"no {RUN_ID_TAG} tag")
    if safe_name(run_id) != run_id or run_id.startswith(".") or len(run_id) > 200:
        return PullResult(mid, run_id[:80], "refused", f"its {RUN_ID_TAG} tag {run_id[:80]!r} is not a safe run id")
    if (root_p / run_id).exists() or (root_p / run_id / CONFIG).is_symlink():
        return PullResult(mid, run_id, "already here", f"{root_p / run_id} exists; not overwritten")
    dl: Path | None = None
    try:
        listing = client.list_artifacts(mid, ARTIFACT_PATH)
        if not listing:
            raise ValueError(f"refused: the MLflow run has no {ARTIFACT_PATH}/ artifacts (a failed push, or deleted)")
        entries = []
        for f in listing:
            path = str(f.path)
            name = path[len(ARTIFACT_PATH) + 1:] if path.startswith(ARTIFACT_PATH + "/") else path
            entries.append((name, bool(f.is_dir), int(f.file_size or 0)))
        take = portable_files(entries)
        root_p.mkdir(parents=True, exist_ok=True)
        dl = Path(tempfile.mkdtemp(prefix=temp_prefix("pull"), dir=root_p))
        staging = dl / ARTIFACT_PATH
        staging.mkdir()
        for name, _ in take:
            got = Path(client.download_artifacts(mid, f"{ARTIFACT_PATH}/{name}", str(dl / "get"))).resolve()
            if dl.resolve() not in got.parents or not got.is_file() or got.is_symlink():
                raise ValueError(f"refused: {name} was not downloaded as a file into {dl}")
            os.replace(got, staging / name)
        origin = {"from": "mlflow", "tracking_uri": shown_uri(uri),
                  "experiment": _exp_name(client, mrun.info.experiment_id, exp_names), "mlflow_run_id": mid,
                  "pulled": time.strftime("%Y-%m-%d %H:%M:%S")}
        run = admit_staged(staging, root_p, run_id, suffix="-pulled-", origin=origin)
        return PullResult(mid, run.run_id, "pulled", str(run.path))
    except DiskFullError:
        raise
    except ValueError as exc:
        return PullResult(mid, run_id, "refused", str(exc).removeprefix("refused: "))
    except Exception as exc:  # a download that failed midway, a damaged artifact store
        return PullResult(mid, run_id, "refused", f"its artifacts could not be downloaded ({type(exc).__name__}: "
                                                  f"{_first_line(exc)})")
    finally:
        if dl is not None:
            shutil.rmtree(dl, ignore_errors=True)
