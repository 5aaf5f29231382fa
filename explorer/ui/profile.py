"""Streamlit pieces for issue 16: the Inspect page's Measured view, the measured-latency column of
Compare architectures, the Results page's export/MLflow panel, and ONNX latency on the Draw page."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st
import torch

from explorer.charts.profile import gflops_chart, time_vs_macs_chart
from explorer.inspect import InspectError
from explorer.inspect.profile import measured_latency, profile_model, save_profile
from explorer.ui.layout import show_chart


def measured_view(name: str, letters: bool, size: tuple[int, int, int], classes: int, key: str = "measured") -> None:
    """Inspect page tab: profile on demand (device, backward, repeats) and show time vs MACs."""
    c1, c2, c3 = st.columns(3)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    device = c1.selectbox("Device", devices, key=f"{key}_device",
                          help=None if len(devices) > 1 else "CUDA is not available on this machine")
    repeats = c2.number_input("Repeats", 3, 200, 10, key=f"{key}_repeats")
    backward = c3.checkbox("Time backward too", key=f"{key}_backward")
    if not st.button("Measure", key=f"{key}_run", icon=":material/timer:"):
        st.caption("Measures real forward time per layer (warm-up, then repeats; median and quartiles) "
                   "on this machine. MACs mislead: a depthwise convolution is cheap in MACs and slow in practice.")
        return
    try:
        with st.spinner("Timing every layer..."):
            prof = profile_model(name, size, device=device, repeats=int(repeats), backward=backward,
                                 num_classes=classes, letters=letters)
    except (InspectError, RuntimeError, KeyError, ValueError) as exc:
        st.error(f"Cannot profile {name}: {exc}")
        return
    save_profile(prof)
    st.markdown(f"Whole forward **{prof.whole_forward_s * 1e3:.2f} ms** (median of {prof.repeats}, no hooks) on "
                f"{prof.device_name}, {prof.threads} threads; per-layer times add up to "
                f"{100 * prof.sum_ratio:.0f}% of it. Profiled in {prof.elapsed_s:.1f} s.")
    show_chart(time_vs_macs_chart(prof))
    show_chart(gflops_chart(prof))
    st.dataframe(prof.to_dataframe(), hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.3f")
                                for c in ("Forward ms", "p25 ms", "p75 ms", "Backward ms", "Time %", "GFLOP/s")})


def with_measured_latency(df: pd.DataFrame) -> pd.DataFrame:
    """Add 'measured ms (cpu)' / '(cuda)' columns from cached profiles (models never profiled stay empty)."""
    lat = measured_latency()
    out = df.copy()
    for device in sorted(set(lat["device"])):
        sub = lat[lat["device"] == device].set_index("model")
        col = f"measured ms ({device})"
        out[col] = out["model"].map(sub["measured ms"]) if "model" in out else np.nan
    if lat.empty:
        st.caption("Measured latency: profile a model (Inspect → Measured, or `python -m explorer profile NAME`) "
                   "to add a measured-latency column here.")
    return out


def export_panel(run: Any) -> None:
    """Results page: export the run to ONNX (verified by onnxruntime) and push it to MLflow."""
    from explorer.export.mlflow import INSTALL_HINT, mlflow_available
    from explorer.export.onnx import ExportError, export_onnx

    with st.expander("Export: ONNX file and MLflow", icon=":material/ios_share:"):
        out = st.text_input("Output folder", str(Path("exports") / run.run_id), key=f"export_out_{run.run_id}")
        if st.button("Export to ONNX", key=f"export_onnx_{run.run_id}"):
            try:
                with st.spinner("Exporting and checking with onnxruntime on the test split..."):
                    r = export_onnx(run, out)
                st.success(f"Wrote {r.path}: top-1 identical to torch on {r.top1_agree}/{r.images} test images, "
                           f"max probability difference {r.max_prob_diff:.3g}; model card beside it.")
            except (ExportError, FileNotFoundError, ValueError) as exc:
                st.error(str(exc))
        if not mlflow_available():
            st.info(INSTALL_HINT)
            return
        uri = st.text_input("MLflow tracking URI or folder", "./mlruns", key=f"mlflow_uri_{run.run_id}")
        if st.button("Push to MLflow", key=f"mlflow_push_{run.run_id}"):
            from explorer.export.mlflow import push_run

            try:
                with st.spinner("Pushing..."):
                    r = push_run(run, uri)
                st.success(f"MLflow run {r.mlflow_run_id}: " + ("pushed" if r.created else "already there; not duplicated"))
            except (ValueError, OSError) as exc:
                st.error(f"Push failed: {exc}")


@st.cache_resource(max_entries=8, show_spinner=False)
def _onnx_session(path: str, mtime_ns: int) -> Any:
    from explorer.export.onnx import onnx_session

    return onnx_session(path)


def onnx_answer(run_path: str, x: torch.Tensor, classes: list[str] | None, torch_ms: float) -> None:
    """Draw page: if the run was exported (exports/<run id>/model.onnx), its answer and latency beside torch's."""
    from explorer.export.onnx import ONNX_FILE

    path = Path("exports") / Path(run_path).name / ONNX_FILE
    if not path.is_file():
        st.caption("Export this run on the Results page to compare with onnxruntime here.")
        return
    from explorer.export.onnx import onnx_probabilities

    sess = _onnx_session(str(path), path.stat().st_mtime_ns)
    img = x.reshape(1, 1, 28, 28).numpy().astype(np.float32)
    t0 = time.perf_counter()
    p = onnx_probabilities(sess, img)[0]
    ms = (time.perf_counter() - t0) * 1e3
    top = int(p.argmax())
    label = classes[top] if classes and top < len(classes) else str(top)
    st.caption(f"ONNX (onnxruntime): **{label}** {p[top]:.0%} in {ms:.2f} ms · torch {torch_ms:.1f} ms "
               "(torch includes preprocessing)")
