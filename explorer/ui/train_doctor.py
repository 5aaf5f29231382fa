"""Streamlit parts for the Train page: the "System check" panel, the per-epoch estimate line and the GPU memory line."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from explorer.config import TrainConfig

STATUS_ICON = {"pass": "✅ pass", "fail": "❌ fail", "unsupported": "➖ unsupported", "skipped": "⏭ skipped"}


def render_system_check(compile_timeout: float = 120.0) -> None:
    """An expander with a "Run system check" button; results (a table) stay until the next check."""
    with st.expander("System check (versions, devices, every training path)"):
        st.caption("Runs a tiny real training run per precision mode, channels_last, torch.compile "
                   f"(up to {compile_timeout:.0f} s), an evaluation, a prediction and a Grad-CAM on every device.")
        if st.button("Run system check", key="doctor_run"):
            from explorer.doctor.core import run_doctor

            bar = st.progress(0.0, text="starting")
            report = run_doctor(compile_timeout=compile_timeout,
                                progress=lambda f, label: bar.progress(min(1.0, max(0.0, f)), text=label))
            bar.empty()
            st.session_state["doctor_report"] = report.to_dict()
        data = st.session_state.get("doctor_report")
        if data:
            render_doctor_report(data)


def render_doctor_report(data: dict[str, Any]) -> None:
    """Render a doctor report (its to_dict()): verdict, versions, devices, no-GPU sentence, the checks table."""
    import pandas as pd

    v = data["versions"]
    st.markdown(f"torch **{v['torch']}** · torchvision **{v['torchvision']}** · CUDA build **{v['cuda_build'] or 'none'}**"
                f" · cuDNN **{v['cudnn'] or 'none'}** · Python {v['python']}")
    st.caption(" · ".join(f"{d['device']}: {d['name']}" for d in data["devices"]))
    if data.get("gpu_note"):
        st.info(data["gpu_note"])
    rows = pd.DataFrame(data["checks"])
    failed = rows[rows["status"] == "fail"] if len(rows) else rows
    if len(failed):
        st.error("Failed: " + ", ".join(f"{r.device} {r.name}" for r in failed.itertuples()))
    else:
        st.success("Every path this machine supports works.")
    rows["status"] = rows["status"].map(lambda s: STATUS_ICON.get(s, s))
    st.dataframe(rows, hide_index=True, width="stretch", column_config={
        "name": "path", "images_per_s": st.column_config.NumberColumn("images/s", format="%.0f"),
        "peak_mem_mb": st.column_config.NumberColumn("peak MiB (GPU)", format="%.0f"),
        "seconds": st.column_config.NumberColumn("s", format="%.1f"),
    })  # fmt: skip


@st.cache_data(show_spinner=False, max_entries=64, ttl=600)
def _estimate(cfg_json: str, root: str) -> dict[str, Any]:
    """Cached per config (its JSON) and runs folder: explorer.train.estimate.estimate_run as a dict."""
    from explorer.train.estimate import estimate_run

    return estimate_run(TrainConfig.from_dict(json.loads(cfg_json)), root).to_dict()


def estimate_line(cfg: TrainConfig | None, pressed: bool) -> dict[str, Any] | None:
    """One line near Start: the estimate of this config (cached), computed when the form's Estimate was pressed;
    returns the estimate (RunEstimate.to_dict()) when there is one."""
    from explorer.runs import runs_root

    if cfg is None:
        return None
    key = json.dumps(cfg.replace(name="").to_dict(), sort_keys=True)
    done = st.session_state.setdefault("estimates", {})
    if pressed and key not in done:
        with st.spinner("timing a few training steps on the device ..."):
            try:
                done[key] = _estimate(key, str(runs_root()))
            except (ValueError, RuntimeError) as exc:
                done[key] = {"error": str(exc)}
    est = done.get(key)
    if est is None:
        return None
    if "error" in est:
        st.warning(f"No estimate: {est['error']}")
        return None
    st.caption(f":material/timer: {estimate_text(est)}" + "".join(f" · {n}" for n in est.get("notes", [])))
    return est


def shown_estimate(cfg: TrainConfig | None) -> dict[str, Any] | None:
    """The estimate this session showed for `cfg` (the Estimate button), else the recorded one of the same
    settings here (nothing is timed): what a run started now records as its estimate."""
    from explorer.runs import runs_root
    from explorer.train.estimate import recorded_estimate

    if cfg is None:
        return None
    key = json.dumps(cfg.replace(name="").to_dict(), sort_keys=True)
    est = st.session_state.get("estimates", {}).get(key)
    if est and "error" not in est:
        return est
    rec = recorded_estimate(cfg, str(runs_root()))
    return rec.to_dict() if rec is not None else None


def estimate_text(est: dict[str, Any]) -> str:
    """"the whole run about 12m 40s (10m 08s to 22m 48s), 4m 10s per epoch, for lenet5 · 1x32x32 input · batch 64
    · 23,400 images x 2 epochs · cpu (2 threads); measured: 5 timed training steps just now (...)"."""
    from explorer.names import format_duration
    from explorer.train.estimate import RunEstimate

    e = RunEstimate.from_dict(est)
    if e is None:
        return "no estimate"
    return (f"the whole run {e.text()}, {format_duration(e.epoch_seconds)} per epoch, for {e.settings_text()}; "
            f"{e.how}")


def gpu_memory_text(status: dict[str, Any]) -> str | None:
    """"in use 812 MiB · peak 1,930 MiB of 81,559 MiB" from a run's status, or None for CPU runs."""
    peak = status.get("gpu_mem_peak_mb", status.get("gpu_mem_mb"))
    if not peak:
        return None
    now, total = status.get("gpu_mem_now_mb"), status.get("gpu_mem_total_mb")
    parts = [f"in use {now:,.0f} MiB" if now is not None else None, f"peak {peak:,.0f} MiB"]
    text = " · ".join(p for p in parts if p)
    return text + (f" of {total:,.0f} MiB" if total else "")
