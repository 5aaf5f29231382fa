"""Streamlit helpers for the Explain page: cached explanations, the input picker, method panels and
feature-map grids. Run models come from the one cache, explorer.run_models.load_run_model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import streamlit as st

from explorer.data.preprocess import UPLOAD_TYPES
from explorer.explain import (
    METHODS,
    ExplainError,
    Explanation,
    conv_layers,
    explain,
    feature_maps,
    first_layer_filters,
    heatmap_rgb,
    method_title,
    overlay,
)
from explorer.explain.view import feature_grid
from explorer.ui.layout import tiles
from explorer.ui.run_picker import page_link_if_exists
from explorer.ui.text import md_escape

SOURCES = ("Test image", "Misclassified test image", "Upload", "Last drawing", "Example letter")


def model_or_error(run: Any, which: str = "best") -> tuple[Any, str | None]:
    """(model, None), or (None, message naming the weights file and the reason) when it cannot be loaded."""
    from explorer.run_models import load_run_model
    from explorer.ui.results import weights_error

    try:
        with st.spinner("Loading the run's model..."):
            return load_run_model(run, which), None
    except Exception as exc:  # missing, truncated, not safetensors, wrong architecture: never a traceback
        return None, weights_error(run, exc, which)


@st.cache_data(show_spinner=False, max_entries=64)
def cached_explanation(run_path: str, stamp: tuple[int, int], image: bytes, method: str, target: int | None,
                       layer: str | None, contrast: int | None) -> Explanation:
    """explain() of one (1, 28, 28) float32 image given as bytes (cached per run, weights and arguments)."""
    from explorer.run_models import load_run_model

    model = load_run_model(run_path, "best")
    x = np.frombuffer(image, dtype=np.float32).reshape(1, 28, 28).copy()
    return explain(model, x, method, target=target, layer=layer, contrast=contrast)


def as_image(value: Any) -> np.ndarray:
    """A drawing or test image (tensor or array; (28, 28) or (1, 28, 28); uint8 or [0, 1] float) ->
    float32 (1, 28, 28)."""
    from explorer.models.inference import to_batch

    return to_batch(value)[0].cpu().numpy()


@st.cache_data(show_spinner=False, max_entries=4)
def image_from_upload(data: bytes) -> np.ndarray:
    """Uploaded file bytes -> float32 (1, 28, 28), once per file (cached by a hash of the bytes); raises
    ImageError with a message for the user."""
    from explorer.data import preprocess_image

    return as_image(preprocess_image(data))


def pick_input(run: Any, classes: list[str]) -> tuple[np.ndarray, str] | None:
    """The input chooser: a test image by class and index, a misclassified one, an upload, the
    last canvas drawing or an example letter -> (float32 (1, 28, 28), description), or None with a message."""
    from explorer.ui.results import test_set

    source = st.radio("Image", SOURCES, horizontal=True, key="explain_source")
    if source == "Upload":
        return _upload_input()
    if source == "Example letter":
        from explorer.ui.examples import pick_example

        example = pick_example("explain_example")
        return None if example is None else (image_from_upload(example[0]), f"example letter {example[1]}")
    if source == "Last drawing":
        return _drawing_input()
    data = test_set(run)
    if data is None:
        return None
    images, labels = data
    if source == "Misclassified test image":
        return _mistake_input(run, classes, images, labels)
    return _class_input(classes, images, labels)


def _upload_input() -> tuple[np.ndarray, str] | None:
    """An uploaded image of one letter, or None with a message."""
    up = st.file_uploader("An image of one letter (PNG, JPEG, ...)", type=UPLOAD_TYPES, key="explain_upload")
    if up is None:
        st.info("Upload an image of one handwritten letter; it is cropped, centred and scaled like EMNIST.")
        return None
    from explorer.data import ImageError

    try:
        return image_from_upload(up.getvalue()), f"upload {up.name}"
    except ImageError as exc:
        st.error(f"Cannot use {md_escape(up.name)}: {md_escape(exc)}")
        return None


def _drawing_input() -> tuple[np.ndarray, str] | None:
    """The last canvas drawing, or None with a link to the Draw page."""
    drawing = st.session_state.get("last_drawing")
    if drawing is None:
        st.info("No drawing yet: draw a letter on the Draw page first.")
        page_link_if_exists("draw", "Go to the Draw page", ":material/draw:")
        return None
    return as_image(drawing), "your last drawing"


def _mistake_input(run: Any, classes: list[str], images: Any, labels: Any) -> tuple[np.ndarray, str] | None:
    """A misclassified test image, most confident first, or None with a message."""
    from explorer.evaluate import mistakes

    preds = run.predictions()
    if preds is None:
        st.info("This run has no saved test predictions; evaluate it on the Results page first.")
        page_link_if_exists("results", "Go to the Results page", ":material/monitoring:")
        return None
    idx = mistakes(preds.y_true, preds.y_prob)
    if len(idx) == 0:
        st.success("This run classifies every test image correctly: no mistakes to explain.")
        return None
    pred = preds.y_prob.argmax(axis=1)
    i = st.selectbox(f"Misclassified ({len(idx)}, most confident first)", [int(j) for j in idx],
                     key="explain_mistake",
                     format_func=lambda j: f"#{j}: true {classes[preds.y_true[j]]} → predicted "
                                           f"{classes[pred[j]]} (p={preds.y_prob[j, pred[j]]:.2f})")
    return as_image(images[i]), f"test image #{i} (true {classes[labels[i]]})"


def _class_input(classes: list[str], images: Any, labels: Any) -> tuple[np.ndarray, str] | None:
    """A test image chosen by class and index among that class, or None with a message."""
    c1, c2 = st.columns(2)
    cls = c1.selectbox("Class", classes, key="explain_class")
    of_class = np.flatnonzero(labels == classes.index(cls))
    if len(of_class) == 0:
        st.info(f"The test split has no image of class {md_escape(cls)}.")
        return None
    k = int(c2.number_input(f"Index among the {len(of_class)} test images of {md_escape(cls)}", 0, len(of_class) - 1, 0,
                            key="explain_index"))
    i = int(of_class[min(k, len(of_class) - 1)])
    return as_image(images[i]), f"test image #{i} (true {cls})"


def follow_prediction(key: str, predicted: int, n_classes: int, run_id: str) -> None:
    """Select the predicted class in the class box `key` whenever the prediction (or run) changes.

    The box holds class indices only (no None option: a None value shows as "Choose an option"), and it
    is set before the widget is drawn, so the browser gets the new selection with the new labels.
    """
    state = st.session_state
    follows = (run_id, int(predicted))
    if state.get(f"{key}_follows") != follows or state.get(key) not in range(n_classes):
        state[key] = int(predicted)
        state[f"{key}_follows"] = follows


def contrast_class(container: Any, key: str, classes: list[str]) -> int | None:
    """The "…and not class" box: None for "(none)" (stored as -1, never as a None value), else a class index."""
    options = [-1, *range(len(classes))]
    if st.session_state.get(key, -1) not in options:
        st.session_state[key] = -1
    picked = container.selectbox("…and not class (why X and not Y?)", options, key=key,
                                 format_func=lambda t: "(none)" if t < 0 else classes[t])
    return None if picked is None or picked < 0 else int(picked)


METHOD_WIDTH = 170  # one attribution method's overlay and deletion curve: five in a row at 1400 px


def layer_options(model: Any) -> list[str]:
    """Labels "name (C×h×w)" of the model's conv layers, for a selectbox."""
    return [f"{i.name} ({'×'.join(map(str, i.out_shape))})" for i in conv_layers(model)]


def show_image(x: np.ndarray, caption: str, scale: int = 6) -> None:
    """Show a (1, 28, 28) [0, 1] image enlarged (nearest neighbour) with a caption."""
    img = (np.clip(x[0], 0, 1) * 255).round().astype(np.uint8)
    st.image(img.repeat(scale, axis=0).repeat(scale, axis=1), caption=md_escape(caption), width=28 * scale)


def explanation_panel(run: Any, stamp: tuple[int, int], x: np.ndarray, method: str, target: int | None = None,
                      layer: str | None = None, contrast: int | None = None,
                      classes: Sequence[str] | None = None, title: str | None = None, scale: int = 6) -> None:
    """One overlay of one method; an ExplainError (e.g. a layer with no spatial extent) is a message, not a crash."""
    try:
        ex = cached_explanation(str(run.path), stamp, x.astype(np.float32).tobytes(), method, target, layer,
                                contrast)
    except ExplainError as exc:
        st.warning(f"{method_title(method)}: {md_escape(exc)}")
        return
    names = list(classes) if classes is not None else [str(i) for i in range(len(ex.probs))]
    what = (f"{md_escape(names[ex.target])} and not {md_escape(names[ex.contrast])}" if ex.contrast is not None
            else md_escape(names[ex.target]))
    where = f" at {md_escape(ex.layer)}" if ex.layer else ""
    st.image(overlay(x, ex.heatmap, scale=scale), width="stretch",
             caption=f"{title or method_title(method)}: {what}{where} (p={ex.probs[ex.target]:.2f})")
    for note in ex.notes:
        st.caption(md_escape(note))
    from explorer.run_models import load_run_model
    from explorer.ui.trust import deletion_figure

    deletion_figure(load_run_model(run), x, ex, key=f"deletion_{title or method}_{target}_{contrast}_{run.run_id}")


def method_panels(run: Any, stamp: tuple[int, int], x: np.ndarray, methods: Sequence[str] = tuple(METHODS),
                  target: int | None = None, layer: str | None = None, contrast: int | None = None,
                  classes: Sequence[str] | None = None, scale: int = 5) -> None:
    """One overlay per attribution method side by side, for the same image and class."""
    for col, method in zip(tiles(len(methods), METHOD_WIDTH), methods, strict=True):
        with col:
            uses_layer = METHODS[method].uses_layer
            explanation_panel(run, stamp, x, method, target, layer if uses_layer else None, contrast, classes,
                              scale=scale)


def feature_map_grid(model: Any, x: Any, layer: str, limit: int = 64, ncols: int = 8) -> None:
    """Show a layer's channels for this image, the most active first."""
    try:
        fm = feature_maps(model, x, layer)
    except ExplainError as exc:
        st.warning(str(exc))
        return
    shown = fm.ordered(limit)
    scale = max(1, 48 // max(shown.shape[1], 1))
    st.image(feature_grid(shown, ncols=ncols, scale=scale),
             caption=f"{layer}: {len(shown)} of {fm.maps.shape[0]} channels, most active first "
                     f"(each scaled to its own min..max)")


def first_filters(model: Any, ncols: int = 8) -> None:
    """Show the first conv layer's learned filters (mean over input channels)."""
    try:
        name, w = first_layer_filters(model)
    except ExplainError as exc:
        st.warning(str(exc))
        return
    st.image(feature_grid(w.mean(axis=1), ncols=ncols, scale=max(1, 32 // w.shape[-1])),
             caption=f"{name}: {w.shape[0]} filters of {w.shape[2]}×{w.shape[3]}")


def top_k_frame(ranked: Sequence[tuple[int, str, float]]) -> Any:
    """explorer.explain.top_k's (index, name, probability) list as a DataFrame (rank, class, probability)."""
    import pandas as pd

    return pd.DataFrame({"rank": range(1, len(ranked) + 1), "class": [r[1] for r in ranked],
                         "probability": [float(r[2]) for r in ranked]})


def weights_stamp(run: Any) -> tuple[int, int]:
    """Run.weights_stamp of the run's best (else last) weights, (0, 0) when it has none: a cache-key part."""
    try:
        return run.weights_stamp()
    except (FileNotFoundError, ValueError):
        return (0, 0)


__all__ = ["SOURCES", "as_image", "cached_explanation", "explanation_panel",
           "feature_map_grid", "first_filters", "heatmap_rgb", "image_from_upload", "layer_options",
           "method_panels", "model_or_error", "pick_input", "show_image", "top_k_frame", "weights_stamp"]
