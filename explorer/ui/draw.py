"""Streamlit helpers for the Draw page: the canvas, run choice, live prediction panels and the
offer to train the quick model when no run exists yet."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
import torch

from explorer.charts.compare import topk_chart
from explorer.data import BlankImageError, ImageError, load_image_bytes
from explorer.data.preprocess import UPLOAD_TYPES
from explorer.names import format_duration, plural, run_title, title_line
from explorer.predict import (
    Prediction,
    WeightsError,
    format_top,
    load_run_model,
    predict_from_image,
    predict_image,
)
from explorer.progress import epoch_fraction, epoch_text, number
from explorer.runs import RunInfo, open_run, runs_root
from explorer.ui.jobs import job_manager
from explorer.ui.layout import render_chart
from explorer.untrusted import md_code, md_escape

CANVAS_SIZE = 280
HINT = "✍️ Draw a letter on the canvas — the prediction appears after every stroke."


def clear_canvas() -> None:
    """Button callback: a new canvas key remounts an empty canvas; forget the last drawing."""
    st.session_state["draw_canvas_n"] = st.session_state.get("draw_canvas_n", 0) + 1
    for k in ("last_drawing", SAVED, INITIAL, SAVED_PIXELS):
        st.session_state.pop(k, None)


SAVED, INITIAL, SAVED_PIXELS = "draw_saved_strokes", "draw_initial_strokes", "draw_saved_pixels"  # plain keys:
# unlike widget state, they survive page switches


def restore_on_return(widget_key: str = "draw_stroke") -> None:
    """Call first on the page: when the user comes (back) to it, the canvas remounts with the saved strokes.

    A widget's state is dropped when its page is left, so a missing `widget_key` means the page was (re)entered.
    """
    if widget_key not in st.session_state:
        st.session_state[INITIAL] = st.session_state.get(SAVED)


def render_quick_training_offer(key: str = "draw_train_quick") -> None:
    """No saved run yet: a button that trains the quick default model in the background, with progress."""
    from explorer.train import DESCRIPTIONS
    from explorer.ui.quick import quick_button
    if not job_manager().active():
        st.info(f"No saved model to predict with yet (runs folder `{runs_root()}`). {DESCRIPTIONS['quick']}")
        quick_button(key, switch_to_train=False)
        return
    _training_progress()


@st.fragment(run_every=1.0)
def _training_progress() -> None:
    """Progress of the run training now; reruns the page when it ends."""
    active = job_manager().active()
    if not active:
        st.rerun(scope="app")
        return
    run = active[0]
    status = run.status
    epochs = int(number(status.get("epochs")) or run.train_config().total_epochs or 1)
    eta = number(status.get("eta_s"))
    phase = str(status.get("phase") or "starting")
    st.progress(epoch_fraction(status, epochs), text=f"Training {run_title(run)}: {phase}, {epoch_text(status, epochs)}"
                + (f", {format_duration(eta)} left" if eta > 0 else ""))


def render_unreadable(bad: dict[str, str]) -> None:
    """List runs whose weights cannot be read, with the reason."""
    if bad:
        with st.expander(f"{plural(len(bad), 'run')} unreadable", icon=":material/warning:", expanded=False):
            for run_id, why in bad.items():
                st.markdown(f"**{md_escape(run_id)}**: {md_escape(why)}")


def pick_runs(runs: Sequence[RunInfo]) -> list[RunInfo]:
    """The run for the chart and Grad-CAM (at first the one every page opens on: pinned, else the best completed
    run), then any others to compare answers with."""
    from explorer.ui.run_picker import SHARED_KEY, opening_run

    by_id = {r.run_id: r for r in runs}
    ids = list(by_id)
    start = opening_run(list(runs), "draw_run")
    if st.session_state.get("draw_run") != start:
        st.session_state["draw_run"] = start
    c1, c2 = st.columns([1, 1])
    main = c1.selectbox("Run", ids, key="draw_run", format_func=lambda r: title_line(by_id[r]))
    st.session_state[SHARED_KEY] = main
    others = c2.multiselect("Also ask these runs (answers side by side)", [i for i in ids if i != main],
                            key="draw_others", format_func=lambda r: title_line(by_id[r]))
    return [by_id[main], *(by_id[o] for o in others)]


def canvas(stroke_width: int, key: str) -> np.ndarray | None:
    """The drawing canvas (white ink on black); its RGBA pixels, or None where no drawing is available."""
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception as exc:  # importing it outside `streamlit run` raises
        st.caption(f"The drawing canvas is not available here ({type(exc).__name__}).")
        return None
    result = st_canvas(stroke_width=stroke_width, stroke_color="#FFFFFF", background_color="#000000",
                       height=CANVAS_SIZE, width=CANVAS_SIZE, drawing_mode="freedraw", return_image_data=True,
                       update_streamlit=True, key=key, initial_drawing=st.session_state.get(INITIAL))
    try:
        strokes, image = result.json_data, result.image_data
    except Exception:
        return None
    inked = image is not None and np.asarray(image).ndim == 3 and bool(np.asarray(image)[..., :3].any())
    if inked and isinstance(strokes, dict) and strokes.get("objects"):
        st.session_state[SAVED] = strokes  # kept, with its pixels, for when the user comes back to the page
        st.session_state[SAVED_PIXELS] = image
        return image
    if not inked and st.session_state.get(INITIAL):  # restored strokes are drawn; the canvas sends pixels on a stroke
        return st.session_state.get(SAVED_PIXELS)
    return image


def upload() -> bytes | None:
    """A photo of a handwritten letter (any file; a non-image gets a clear message later)."""
    f = st.file_uploader("Upload a photo of one handwritten letter (PNG, JPEG, ...)", type=UPLOAD_TYPES,
                         key="draw_upload")
    return f.getvalue() if f is not None else None


def cached_model(info: RunInfo) -> Any:
    """The run's model from the one cache (explorer.run_models.load_run_model); None with a message if unreadable."""
    try:
        with st.spinner(f"Loading {md_escape(run_title(info))}..."):
            return load_run_model(info.path)
    except (WeightsError, FileNotFoundError, ValueError) as exc:
        st.error(f"Run **{md_escape(run_title(info))}** ({md_code(info.run_id)}) is unreadable: {md_escape(exc)}")
        return None


def to_prediction(model: Any, image: Any, classes: Sequence[str] | None) -> tuple[torch.Tensor, Prediction] | None:
    """Image -> (tensor, prediction); the hint for an empty canvas, a clear message for a bad image."""
    try:
        return predict_from_image(model, image, classes)
    except BlankImageError:
        st.info(HINT)
    except ImageError as exc:
        st.error(md_escape(exc))
    return None


@st.cache_data(show_spinner=False, max_entries=4)
def decoded_upload(data: bytes) -> Any:
    """The upload decoded and shrunk once per file (the cache key is a hash of its bytes); ImageError if unusable."""
    return load_image_bytes(data)


def upload_image(data: bytes) -> Any:
    """Open uploaded bytes as an image, or show why it cannot be used (None)."""
    try:
        return decoded_upload(data)
    except ImageError as exc:
        st.error(f"That upload cannot be used: {md_escape(exc)}")
        return None


def render_tensor(x: torch.Tensor) -> None:
    """The exact 28x28 tensor the model sees, enlarged without smoothing."""
    img = (x[0].numpy() * 255).round().astype(np.uint8).repeat(6, 0).repeat(6, 1)
    st.image(img, caption="What the model sees: 1×28×28 in [0, 1]", width=150)


def render_prediction(pred: Prediction, name: str) -> None:
    """Top letter and probability as text, and the top-5 as bars."""
    st.markdown(f"**{md_escape(name)}** reads:")
    with st.container(key="draw-top"):  # class st-key-draw-top: the browser tests find the answer here
        st.markdown(f"## {md_escape(format_top(pred))}")  # text only: class names come from the run
    st.caption(f"{pred.latency_ms:.1f} ms (preprocess + forward + softmax, CPU)")
    render_chart(topk_chart(pred.frame(), width="container"))  # fits its column


def render_gradcam(model: Any, x: torch.Tensor, pred: Prediction) -> None:
    """Grad-CAM of the top prediction over the 28x28 drawing."""
    from explorer.explain import ExplainError, explain, overlay

    try:
        ex = explain(model, x, "gradcam", target=pred.index)
    except (ExplainError, RuntimeError, ValueError) as exc:
        st.caption(f"No Grad-CAM for this model: {md_escape(exc)}")
        return
    st.image(overlay(x, ex.heatmap, scale=6), caption=f"Grad-CAM for {md_escape(pred.top[0])} (layer {md_escape(ex.layer)})", width=150)
    from explorer.ui.trust import render_deletion_figure

    render_deletion_figure(model, x, ex, key="draw_deletion")


def render_side_by_side(infos: Sequence[RunInfo], x: torch.Tensor) -> None:
    """Each chosen run's answer to the same tensor, side by side (the best top probability marked)."""
    cols = st.columns(len(infos))
    answers = []
    for info in infos:
        model = cached_model(info)
        answers.append(None if model is None else predict_image(model, x, open_run(info.path).config.get("classes")))
    tops = [a.top[1] if a else -1.0 for a in answers]
    for col, info, pred, p in zip(cols, infos, answers, tops, strict=True):
        with col.container(border=True):
            st.caption(md_escape(run_title(info)), help=f"run id: {info.run_id}")
            if pred is None:
                st.write("unreadable")
                continue
            star = " :material/star: best" if p == max(tops) and len(infos) > 1 else ""
            st.markdown(f"### {md_escape(format_top(pred))}{star}")
            st.caption(" · ".join(f"{md_escape(c)} {q:.0%}" for c, q in zip(pred.letters[1:4], pred.top_probs[1:4], strict=False)))


@st.cache_resource(max_entries=8, show_spinner=False)
def _onnx_session(path: str, mtime_ns: int) -> Any:
    from explorer.export.onnx import onnx_session

    return onnx_session(path)


def render_onnx_answer(run_path: str, x: torch.Tensor, classes: list[str] | None, torch_ms: float) -> None:
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
