"""Streamlit panels of the Train page for sweeps: the sweep form (settings that take a list or a
range, grid size and time estimate, confirmation of huge grids, Optuna search) and the queue
(progress, pause, resume, cancel, reorder). The queue lives in the runs folder; its driver is a
background process, so a sweep goes on across page switches and app restarts."""

from __future__ import annotations

import hashlib
from dataclasses import fields
from typing import Any

import pandas as pd
import streamlit as st

from explorer.config import TrainConfig, field_label
from explorer.names import format_duration, plural
from explorer.progress import clamp01
from explorer.sweep import (
    CONFIRM_POINTS,
    Grid,
    NeedsConfirmation,
    new_grid_sweep,
    new_optuna_sweep,
    parse_values,
)
from explorer.sweep.estimate import grid_seconds
from explorer.sweep.grid import field_kind, point_text, sweepable_fields
from explorer.sweep.optuna_search import parse_space
from explorer.sweep.queue import DONE_STATES, Sweep, list_sweeps
from explorer.sweep.runner import resume_orphaned, start_driver
from explorer.sweep.study import StudyError, list_studies, load_study, progress, safe_url
from explorer.untrusted import md_code, md_escape

_FIELDS = {f.name: f for f in fields(TrainConfig)}
SHOWN_SWEEPS = 5  # finished sweeps listed under the queue


def _label(name: str) -> str:
    meta = _FIELDS[name].metadata
    return f"{meta.get('label') or name} ({'list or lo:hi:n' if field_kind(name) == 'range' else 'list'})"


def _default_text(cfg: TrainConfig, name: str) -> str:
    """The value text field's start: the form's value, or every choice of a choice field."""
    choices, value = _FIELDS[name].metadata.get("choices") or (), getattr(cfg, name)
    if choices:
        return ",".join(choices)
    if isinstance(value, bool):
        return "true,false"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _values(cfg: TrainConfig, chosen: list[str]) -> dict[str, str]:
    """One text field per chosen setting -> {setting: text}."""
    out = {}
    for col, name in zip(st.columns(max(1, min(3, len(chosen)))) * len(chosen), chosen, strict=False):
        out[name] = col.text_input(_label(name), _default_text(cfg, name), key=f"sweep_val_{name}",
                                   help=f"{_FIELDS[name].metadata['help']}: values a,b,c or a range lo:hi:n "
                                        "(lo:hi:n:log for log spacing)")
    return out


@st.cache_data(show_spinner=False, max_entries=32)
def _estimate(base: dict[str, Any], points: tuple[tuple[tuple[str, Any], ...], ...], root: str) -> tuple[float, list[str]]:
    """Cached grid time estimate (timed steps only once per model setting)."""
    return grid_seconds(TrainConfig.from_dict(base), [dict(p) for p in points], root)


def _grid_part(cfg: TrainConfig, texts: dict[str, str], root: str) -> tuple[Grid | None, float | None]:
    """Seeds, size and time estimate of the grid; (None, None) after an error shown on the page."""
    seeds = int(st.number_input("Seeds per point", 1, 100, 1, key="sweep_seeds",
                                help="each point is trained with seeds base, base+1, ... (mean ± std in Compare runs)"))
    try:
        grid = Grid(dict(parse_values(k, v) for k, v in texts.items()), seeds)
    except ValueError as exc:
        st.error(f"Cannot sweep: {md_escape(exc)}")
        return None, None
    seconds = None
    if grid.size <= 20_000:
        with st.spinner("Estimating the time per epoch..."):
            points = tuple(tuple(sorted(p.items())) for p in grid.points(cfg.seed))
            seconds, notes = _estimate(cfg.to_dict(), points, root)
        st.markdown(f"**{plural(grid.size, 'run')}** · about **{format_duration(seconds)}** of training")
        st.caption(md_escape("; ".join(notes)))
    else:
        st.markdown(f"**{plural(grid.size, 'run')}** (too many to estimate point by point)")
    return grid, seconds


def _confirmed(grid: Grid, seconds: float | None, texts: dict[str, str]) -> bool:
    """A grid above CONFIRM_POINTS needs a ticked box keyed by the grid itself."""
    if grid.size <= CONFIRM_POINTS:
        return True
    key = "sweep_confirm_" + hashlib.sha1(repr((sorted(texts.items()), grid.seeds)).encode()).hexdigest()[:12]
    when = f", about {format_duration(seconds)}" if seconds is not None else ""
    st.warning(f"This grid has {grid.size:,} runs{when}. Tick the box to confirm.")
    return bool(st.checkbox(f"Yes, queue all {grid.size:,} runs", key=key))


def render_sweep_form(cfg: TrainConfig | None, root: str) -> None:
    """The sweep form: the settings above are the base; chosen settings take lists or ranges."""
    if cfg is None:
        st.info("Fix the settings above first: they are the base of every run of a sweep.")
        return
    names = list(sweepable_fields())
    st.caption("Settings that can take a list or a range: "
               + ", ".join(field_label(TrainConfig, n) for n in names) + ".")
    chosen = st.multiselect("Settings to sweep", names, key="sweep_fields", wrap=True,
                            format_func=lambda n: field_label(TrainConfig, n))
    if not chosen:
        return
    texts = _values(cfg, chosen)
    c1, c2 = st.columns(2)
    mode = c1.radio("Search", ["grid", "optuna"], horizontal=True, key="sweep_mode",
                    format_func={"grid": "every point (grid)", "optuna": "Optuna (TPE + pruning)"}.get)
    name = c2.text_input("Sweep name (optional)", "", key="sweep_name")
    if mode == "optuna":
        _optuna_part(cfg, texts, root, name)
        return
    grid, seconds = _grid_part(cfg, texts, root)
    if grid is None:
        return
    ok = _confirmed(grid, seconds, texts)
    if st.button("Start sweep", type="primary", key="sweep_start", disabled=not ok):
        _launch(lambda: new_grid_sweep(cfg, grid, root, name, confirmed=ok, seconds=seconds))


def _optuna_part(cfg: TrainConfig, texts: dict[str, str], root: str, name: str) -> None:
    c1, c2 = st.columns(2)
    trials = int(c1.number_input("Trials", 1, 10_000, 20, key="sweep_trials"))
    seed = int(c2.number_input("Sampler seed", 0, 2**31 - 1, 0, key="sweep_optuna_seed"))
    st.caption("Lists are choices; lo:hi:n ranges are searched continuously (n is ignored). Trials whose "
               "validation accuracy falls below the median of earlier trials at the same epoch are pruned.")
    try:
        space = parse_space([f"{k}={v}" for k, v in texts.items()])
    except ValueError as exc:
        st.error(f"Cannot search: {md_escape(exc)}")
        return
    with st.spinner("Estimating the time per epoch..."):
        seconds, notes = _estimate(cfg.to_dict(), tuple(() for _ in range(trials)), root)
    st.markdown(f"**{plural(trials, 'trial')}** · at most about **{format_duration(seconds)}** of training (pruning cuts it)")
    st.caption(md_escape("; ".join(notes)))
    if st.button("Start search", type="primary", key="sweep_start_optuna"):
        _launch(lambda: new_optuna_sweep(cfg, space, trials, seed, root, name))


def _launch(make: Any) -> None:
    """Check and write the sweep, then start its driver; messages, never a traceback."""
    try:
        with st.spinner("Checking every point..."):
            sweep = make()
        start_driver(sweep)
        st.success(f"Sweep {sweep.sweep_id} queued and started. It keeps going if you leave the page.")
    except NeedsConfirmation as exc:
        st.warning(md_escape(exc))
    except (ValueError, KeyError, FileNotFoundError) as exc:
        st.error(f"Cannot start: {md_escape(exc.args[0] if exc.args else exc)}")


def items_frame(sweep: Sweep) -> pd.DataFrame:
    """The queue's items as a table (queue order)."""
    rows = [{"#": i["index"], "state": i.get("state"), "point": point_text(i.get("point") or {}),
             "val acc": i.get("val_acc"), "test acc": i.get("test_acc"), "run": i.get("run_id") or "",
             "error": str(i.get("error") or "")[:200]} for i in sweep.items()]
    return pd.DataFrame(rows, columns=["#", "state", "point", "val acc", "test acc", "run", "error"])


def _actions(sweep: Sweep, state: str, key: str) -> None:
    c = st.columns(4)
    if state in ("running",) and c[0].button("Pause", key=key + "pause", help="the running run finishes; no new one starts"):
        sweep.pause(True)
    if state in ("paused", "waiting", "pausing") and c[0].button("Resume", key=key + "resume"):
        sweep.pause(False)
        if not sweep.driver_alive():
            start_driver(sweep)
    if state not in ("done", "cancelled") and c[1].button("Cancel", key=key + "cancel",
                                                         help="pending runs are dropped; the running one stops"):
        sweep.cancel()
    pending = [i["index"] for i in sweep.items() if i.get("state") == "pending"]
    if pending:
        idx = c[2].selectbox("Move pending item", pending, key=key + "item", label_visibility="collapsed",
                             format_func=lambda i: f"move item #{i}")
        up, down = c[3].columns(2)
        if up.button("↑", key=key + "up", help="run earlier"):
            sweep.move(idx, -1)
        if down.button("↓", key=key + "down", help="run later"):
            sweep.move(idx, 1)


def render_sweep_status(sweep: Sweep) -> None:
    """One sweep: name, state, progress bar, actions and its items (a damaged one: its file and the reason)."""
    problem = sweep.problem()
    if problem:
        st.warning(f"Sweep {md_code(sweep.sweep_id)} is unreadable: {md_escape(problem)}", icon=":material/error:")
        return
    state, counts = sweep.state(), sweep.counts()
    total = max(int(sweep.spec.get("size") or 0), sum(counts.values()), 1)
    done = sum(counts[s] for s in DONE_STATES)
    st.markdown(f"**{md_escape(sweep.spec.get('name') or sweep.sweep_id)}** — {md_code(sweep.sweep_id)} — "
                f"{md_escape(sweep.spec.get('mode'))} — **{md_escape(state)}**")
    st.progress(clamp01(done / total), text=f"{done} of {plural(total, 'run')} done · {counts['failed']} failed · "
                                           f"{counts['running']} running")
    _actions(sweep, state, f"sw_{sweep.sweep_id}_")
    st.dataframe(items_frame(sweep), hide_index=True, height=min(36 * (1 + len(sweep.items())) + 2, 300),
                 column_config={"val acc": st.column_config.NumberColumn(format="%.4f"),
                                "test acc": st.column_config.NumberColumn(format="%.4f")})


@st.cache_resource(show_spinner=False)
def _resumed_once(root: str) -> list[str]:
    """resume_orphaned, once per server process and runs folder (a driver that dies again is not restarted
    in a loop: its queue waits for the Resume button)."""
    return resume_orphaned(root)


def resume_after_restart(root: str) -> None:
    """Sweeps whose driver died (an app restart, a reboot) go on by themselves; say so once per session."""
    resumed = _resumed_once(root)
    if resumed and not st.session_state.get("sweeps_resumed_said"):
        st.session_state["sweeps_resumed_said"] = True
        st.toast(f"Resumed {plural(len(resumed), 'sweep queue')} after a restart: {', '.join(resumed)}",
                 icon=":material/restart_alt:")


def render_queue(root: str) -> None:
    """Every unfinished sweep (and the last finished ones), refreshed every 3 s while one is running."""
    resume_after_restart(root)
    sweeps = list_sweeps(root)
    active = [s for s in sweeps if s.state() not in ("done", "cancelled")]

    @st.fragment(run_every=3.0 if any(s.driver_alive() for s in active) else None)
    def _queue() -> None:
        every = list_sweeps(root)
        shown = [s for s in every if s.state() not in ("done", "cancelled")]
        open_ids = {s.sweep_id for s in shown}
        rest = [s for s in every if s.sweep_id not in open_ids][:SHOWN_SWEEPS]
        if not shown and not rest:
            st.caption("No sweeps yet.")
        for s in shown:
            render_sweep_status(s)
        if rest:
            with st.expander(f"Finished sweeps ({len(rest)} latest)"):
                for s in rest:
                    render_sweep_status(s)

    _queue()


def render_sweep(cfg: TrainConfig | None, root: str) -> None:
    """The Train page's sweep section: the queue, then the form (the settings above are the base)."""
    st.subheader("Sweeps")
    render_queue(root)
    with st.expander("New sweep: a grid or an Optuna search over the settings above"):
        render_sweep_form(cfg, root)
    render_shared_sweep()


# ------------------------------------------------------------------------------ a shared sweep
# The Train page's view of a shared sweep (an Optuna study that workers on other machines take trials from):
# give the storage URL, pick the study, see trials done / running / failed / retried, the best so far and every
# trial with its machine, device and run. Read-only: workers are started with `explorer sweep work`.
def render_shared_sweep() -> None:
    """An expander: storage URL -> study -> its progress and trials."""
    with st.expander("Shared sweep: follow a study that several machines work on (`explorer sweep work`)"):
        url = st.text_input("Study storage URL", key="shared_sweep_url", type="password",
                            placeholder="postgresql://user:password@host:5432/db  or  journal:/shared/sweeps.journal",
                            help="The --storage URL the sweep was started with; it stays in this browser session.")
        if not url:
            st.caption("Start one with `explorer sweep --grid ... --storage URL --name NAME`, then run "
                       "`explorer sweep work NAME --storage URL` on each machine or GPU.")
            return
        try:
            studies = [s for s in list_studies(url) if s["kind"]]
        except StudyError as exc:
            st.error(str(exc), icon=":material/cloud_off:")
            return
        if not studies:
            st.info(f"No explorer sweeps in {md_code(safe_url(url))} yet.")
            return
        name = st.selectbox("Study", [s["name"] for s in studies], key="shared_sweep_name")
        _render_study(url, name)


@st.fragment(run_every=10.0)
def _render_study(url: str, name: str) -> None:
    """Progress of one study, refreshed every 10 s while the page is open."""
    try:
        study, spec = load_study(url, name)
        p = progress(study, spec)
    except StudyError as exc:
        st.error(str(exc), icon=":material/cloud_off:")
        return
    ended = p.done + p.failed + p.pruned
    st.markdown(f"**{md_escape(name)}** — {md_escape(p.kind)} — "
                f"**{'finished' if p.finished else 'in progress'}**")
    st.progress(clamp01(p.done / max(1, p.total)),
                text=f"{p.done} of {p.total} done · {p.running} running · {p.waiting} waiting · "
                     f"{p.failed} failed ({p.retried} retried) · {p.pruned} pruned")
    c = st.columns(4)
    c[0].metric("Trials ended", f"{ended} / {p.total}")
    c[1].metric("Running", p.running)
    c[2].metric("Failed (retried)", f"{p.failed} ({p.retried})")
    c[3].metric("Best val acc", f"{p.best_value:.4f}" if p.best_value is not None else "—")
    if p.best_run:
        st.caption(f"Best run: {md_code(p.best_run)} (in the runs folder of the machine that trained it; "
                   "`explorer runs pull` brings pushed runs here)")
    frame = pd.DataFrame(p.rows, columns=["trial", "state", "point", "val_acc", "machine", "device", "run_id",
                                          "retry_of", "error"])
    st.dataframe(frame.rename(columns={"val_acc": "val acc", "run_id": "run", "retry_of": "retry of"}),
                 hide_index=True, height=min(36 * (1 + len(frame)) + 2, 320),
                 column_config={"val acc": st.column_config.NumberColumn(format="%.4f")})
