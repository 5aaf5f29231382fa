"""A run's record: config.json read and checked once into a frozen RunRecord (id, name, tags, created, a typed
TrainConfig, classes, model, dataset, sweep, estimate, split record, versions). Every reader of a run's settings
goes through it; nothing else indexes config.json's dicts. Records are cached by the file's identity
(inode, mtime in ns, size), so a run's config is parsed and validated once per change, not per access.
"""

from __future__ import annotations

import copy
import os
import platform
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from explorer.runs.checks import RunFileError, is_int, need, read_json
from explorer.runs.layout import CONFIG

if TYPE_CHECKING:
    from explorer.config import TrainConfig

__all__ = ["RunRecord", "check_config", "read_record", "versions"]

CACHE_SIZE = 1024


def versions() -> dict[str, str]:
    """Versions of the libraries a run depends on (recorded in config.json "versions" when a run is created;
    the system check, explorer.doctor, adds the CUDA build, cuDNN and platform to these)."""
    import timm
    import torch
    import torchvision

    import explorer

    return {"torch": torch.__version__, "torchvision": torchvision.__version__, "timm": timm.__version__,
            "explorer": explorer.__version__, "python": platform.python_version()}


def check_config(cfg: Any, path: Path) -> TrainConfig:
    """The one type check of a run's config.json (and its TrainConfig's bounds) -> its TrainConfig;
    RunFileError naming the file and the value when anything is wrong."""
    need(isinstance(cfg, dict), path, "must hold a JSON object", cfg)
    for key in ("name", "created", "run_id"):
        need(isinstance(cfg.get(key, ""), str), path, f'"{key}" must be text', cfg.get(key))
    tags, classes = cfg.get("tags") or [], cfg.get("classes") or []
    need(isinstance(tags, list) and all(isinstance(t, str) for t in tags), path, '"tags" must be a list of text', tags)
    need(isinstance(classes, list) and all(isinstance(c, (str, int)) and not isinstance(c, bool) for c in classes),
         path, '"classes" must be a list of names', classes)
    model = cfg.get("model") or {}
    need(isinstance(model, dict), path, '"model" must be an object', model)
    k = model.get("num_classes")
    need(k is None or (is_int(k) and 0 < k <= 100_000), path, '"model.num_classes" must be a whole number > 0', k)
    train = cfg.get("train")
    need(isinstance(train, dict), path, '"train" must be an object (the training settings)', train)
    try:
        from explorer.config import TrainConfig

        return TrainConfig.from_dict(train).validate()
    except Exception as exc:  # from_dict/validate raise ValueError or TypeError for values of the wrong type
        raise RunFileError(path, f'"train" is not a valid training config ({str(exc)[:200]})') from None


@dataclass(frozen=True)
class RunRecord:
    """config.json of one run, checked (check_config) and typed. `raw` is the checked JSON (read-only by
    convention: Run.config hands out a copy)."""

    run_id: str
    name: str
    tags: tuple[str, ...]
    created: str
    train: TrainConfig
    classes: tuple[str, ...]
    num_classes: int
    model_name: str
    dataset: str
    split: dict[str, Any] = field(default_factory=dict)  # config "data": counts, indices' sha256 (train's record)
    model: dict[str, Any] = field(default_factory=dict)  # config "model": name, num_classes, input_size, params
    sweep: dict[str, Any] | None = None  # {"id", "index", "point"} for a run of a sweep
    estimate: dict[str, Any] | None = None  # the time estimate shown before it started (RunEstimate.to_dict)
    versions: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_config(cls, cfg: Any, path: Path, run_id: str) -> RunRecord:
        """Check a parsed config.json (RunFileError naming the file and what is wrong) and type it."""
        train = check_config(cfg, path)
        classes = tuple(str(c) for c in cfg.get("classes") or [])
        model = cfg.get("model") or {}
        sweep, estimate = cfg.get("sweep"), cfg.get("estimate")
        return cls(run_id=run_id, name=str(cfg.get("name") or run_id), tags=tuple(cfg.get("tags") or ()),
                   created=str(cfg.get("created") or ""), train=train, classes=classes,
                   num_classes=int(model.get("num_classes") or len(classes) or 26), model_name=train.model,
                   dataset=train.data.name, split=_dict(cfg.get("data")), model=dict(model),
                   sweep=sweep if isinstance(sweep, dict) else None,
                   estimate=estimate if isinstance(estimate, dict) else None,
                   versions=_dict(cfg.get("versions")), raw=cfg)

    def config(self) -> dict[str, Any]:
        """A copy of the checked config.json (a caller may change it freely)."""
        return copy.deepcopy(self.raw)

    @property
    def train_record(self) -> dict[str, Any]:
        """The "train" object as config.json holds it (for used_settings and cache keys)."""
        return copy.deepcopy(self.raw["train"])


def _dict(v: Any) -> dict[str, Any]:
    return dict(v) if isinstance(v, dict) else {}


_cache: OrderedDict[tuple[str, int, int, int], RunRecord] = OrderedDict()
_lock = threading.Lock()


def read_record(folder: str | os.PathLike) -> RunRecord:
    """The RunRecord of the run folder `folder`, parsed and checked once per change of its config.json (the cache
    key is its path, inode, mtime in ns and size); RunFileError when it is damaged, FileNotFoundError when gone."""
    folder = Path(folder)
    path = folder / CONFIG
    st = path.stat()
    key = (str(path), st.st_ino, st.st_mtime_ns, st.st_size)
    with _lock:
        rec = _cache.get(key)
        if rec is not None:
            _cache.move_to_end(key)
            return rec
    rec = RunRecord.from_config(read_json(path), path, folder.name)
    with _lock:
        _cache[key] = rec
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return rec
