"""Streamlit renderers of the inside views: channels and the embedding map (the Inside page),
confusion over epochs and robustness (Results tabs), and the overlays Compare runs calls."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from explorer.charts import inside as charts
from explorer.inside.common import InsideError
from explorer.ui.layout import render_chart, render_wrapping_charts
from explorer.ui.view_jobs import render_background_view, render_followed_jobs, start_job_quietly
from explorer.untrusted import md_escape

PAGE_SIZE = 12


def _stamp(run: Any) -> float:
    """When the run's best weights were written (epoch seconds; 0 when missing): a view job older is stale."""
    try:
        return run.weights_path("best").stat().st_mtime
    except (OSError, ValueError):
        return 0.0


def _guard(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call fn; an InsideError or a missing file becomes a warning and None (never a traceback)."""
    try:
        return fn(*args, **kwargs)
    except (InsideError, FileNotFoundError, ValueError) as exc:
        st.warning(md_escape(exc))
        return None


# ------------------------------------------------------------------------------------- channels
def render_channels(run: Any) -> None:
    """Pick a layer, compute (or load) its channels' top images, and page through the channels."""
    from explorer.inside.channels import run_channels, spatial_layers
    from explorer.inside.common import run_model

    model = _guard(run_model, run)
    if model is None:
        return
    layers = [f"{name} ({c}x{h}x{w})" for name, (c, h, w) in spatial_layers(model)]
    names = [label.rsplit(" (", 1)[0] for label in layers]
    pick = st.selectbox("Layer (layers with spatial extent)", layers, index=len(layers) - 1, key="inside_layer")
    layer = names[layers.index(pick)]
    got = _guard(run_channels, run, layer, compute=False)
    if got is None:
        return
    tops, _ = got
    if tops is None:
        if not render_background_view("channels", {"run": str(run.path), "layer": layer},
                               "This layer has not been looked at yet: one pass over the test split finds each "
                               "channel's strongest images (stored in the run folder, so the next visit is instant).",
                               "Find each channel's top images", "inside_channels_go", stamp=_stamp(run)):
            return
        got = _guard(run_channels, run, layer, compute=False)
        if got is None or got[0] is None:
            return
        tops = got[0]
    _channel_pages(run, model, tops)


def _channel_pages(run: Any, model: Any, tops: Any) -> None:
    """Sort, page and draw the channels of a computed view."""
    from explorer.inside.channels import channel_patches, channel_strip, first_filters
    from explorer.inside.common import test_split

    geo = tops.geometry
    rf = "whole image" if np.isinf(geo.rf[0]) else f"{geo.rf[0]:.0f}x{geo.rf[1]:.0f} px"
    st.caption(md_escape(f"{geo.channels} channels on a {geo.height}x{geo.width} grid; each unit sees {rf} "
                         f"of the input (jump {geo.jump[0]:.0f} px). Per channel: the mean of its top patches "
                         f"(blue), then its {tops.k} strongest test images cropped to the unit's receptive "
                         "field (grey = outside the image)."))
    order_by = st.radio("Order", ["strongest first", "channel number"], horizontal=True, key="inside_order")
    order = np.argsort(-tops.values[:, 0], kind="stable") if order_by == "strongest first" else np.arange(geo.channels)
    pages = max(1, -(-geo.channels // PAGE_SIZE))
    page = int(st.number_input(f"Page (of {pages})", 1, pages, 1, key=f"inside_page_{geo.layer}"))
    images = test_split(run).images
    filters = first_filters(model, geo.layer)
    if filters is not None:
        st.caption("First layer: the orange tile is the channel's filter (mean over input channels).")
    for c in order[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]:
        crops, mean = channel_patches(tops, images, int(c))
        strip = channel_strip(crops, mean, None if filters is None else filters[int(c)])
        st.image(strip, caption=md_escape(f"channel {int(c)} · top activation {tops.values[c, 0]:.3g} · mean of "
                                          f"strongest unit {tops.mean[c]:.3g}"))


# ------------------------------------------------------------------------------------- embedding
def render_embedding(run: Any) -> None:
    """The map (PCA at once, t-SNE on request), and the selected image or region."""
    from explorer.inside.embedding import run_embedding

    method = st.radio("Projection", ["pca", "tsne"], horizontal=True, key="inside_method",
                      format_func={"pca": "PCA (instant)", "tsne": "t-SNE (about a minute)"}.get)
    got = _guard(run_embedding, run, method, compute=False)
    if got is None:
        return
    emb = got[0]
    if emb is None:
        intro = ("PCA of the penultimate features of every test image" if method == "pca" else
                 "t-SNE of the penultimate features of every test image") + " (stored in the run folder once computed)."
        if not render_background_view("embedding", {"run": str(run.path), "method": method}, intro,
                               f"Compute the {'PCA' if method == 'pca' else 't-SNE'} map", f"inside_{method}_go",
                               stamp=_stamp(run), auto=method == "pca"):
            return
        got = _guard(run_embedding, run, method, compute=False)
        if got is None or got[0] is None:
            return
        emb = got[0]
    frame = emb.frame()
    left, right = st.columns([3, 2])
    with left:
        event = render_chart(charts.embedding_chart(frame, emb.centroids(), size=480), on_select="rerun",
                           selection_mode=[charts.POINT, charts.REGION], key=f"inside_map_{method}")
        wrong = int(frame["wrong"].sum())
        st.caption(md_escape(f"{len(frame):,} test images; {wrong:,} misclassified (ringed). Click a point for "
                             "its image, top-5 and Grad-CAM; drag to select a region."))
    with right:
        _render_selection(run, emb, frame, getattr(event, "selection", None) or {})


def _render_selection(run: Any, emb: Any, frame: pd.DataFrame, selection: Any) -> None:
    """The selected point (image, top-5, Grad-CAM) or the images in the selected region."""
    from explorer.inside.common import test_split

    points = selection.get(charts.POINT) or []
    region = selection.get(charts.REGION) or {}
    images = test_split(run).images
    if points:
        idx = int(points[0].get("index", -1))
        if 0 <= idx < len(frame):
            _point_detail(run, emb, images, idx)
            return
    if region.get("x") and region.get("y"):
        (x0, x1), (y0, y1) = sorted(region["x"]), sorted(region["y"])
        inside = frame[frame.x.between(x0, x1) & frame.y.between(y0, y1)]
        st.markdown(f"**{len(inside):,} images in the region** ({int(inside['wrong'].sum()):,} misclassified)")
        st.dataframe(inside[["index", "true", "predicted", "confidence"]], hide_index=True, height=240,
                     key="inside_region_table")
        shown = inside["index"].to_numpy()[:24]
        if len(shown):
            st.image([images[i] for i in shown], width=42, caption=[md_escape(f"{frame.true[i]}→{frame.predicted[i]}")
                                                                   for i in shown])
        return
    st.info("Click a point on the map, or drag a rectangle over a region.")


def _point_detail(run: Any, emb: Any, images: np.ndarray, idx: int) -> None:
    """One test image: the picture, its top-5 classes and its Grad-CAM."""
    from explorer.ui.explain import render_explanation, weights_stamp

    names = emb.classes
    st.markdown(md_escape(f"Test image {idx}: true {names[emb.y_true[idx]]}, predicted {names[emb.y_pred[idx]]}"))
    x = images[idx].astype(np.float32)[None] / 255.0
    c1, c2 = st.columns(2)
    with c1:
        st.image(images[idx].repeat(5, 0).repeat(5, 1), caption="the image", width=140)
    with c2:
        render_explanation(run, weights_stamp(run), x, "gradcam", classes=names, scale=5)
    st.dataframe(pd.DataFrame({"class": [names[i] for i in emb.top5[idx]], "probability": emb.top5_prob[idx]}),
                 hide_index=True, key="inside_top5", width="stretch",
                 column_config={"probability": st.column_config.ProgressColumn(format="%.3f", min_value=0,
                                                                               max_value=1)})


# ------------------------------------------------------------------------------------- Results tabs
def render_epochs_tab(run: Any, key: str = "results_epochs") -> None:
    """Confusion matrix by epoch (slider and play) and per-class accuracy by epoch."""
    from explorer.charts.evaluate import confusion_heatmap
    from explorer.evaluate import confusion
    from explorer.inside.epochs import bytes_per_epoch, epoch_predictions

    ep = epoch_predictions(run)
    if ep is None:
        st.info("This run was trained before the training loop kept each epoch's validation predictions, or "
                "it has no validation split: there is no confusion over epochs to show. Everything else on "
                "this page still works; retrain it to get this view.")
        return
    st.caption(md_escape(f"{len(ep.epochs)} epochs of validation predictions stored (predicted class and its "
                         f"probability per image: {bytes_per_epoch(ep) / 1024:.1f} KiB per epoch)."))
    holder = st.empty()

    def draw(epoch: int) -> None:
        cm = confusion(ep.y_true[epoch], ep.pred[epoch], ep.classes)
        acc = float(np.trace(cm.counts) / max(1, cm.counts.sum()))
        render_chart(confusion_heatmap(cm, normalized=True, size=460, selectable=False,
                                     title=f"Validation confusion, epoch {epoch} (accuracy {acc:.1%})"), where=holder)

    if len(ep.epochs) > 1:
        c1, c2 = st.columns([4, 1])
        epoch = c1.select_slider("Epoch", ep.epochs, value=ep.epochs[-1], key=f"{key}_epoch")
        if c2.button("▶ Play", key=f"{key}_play"):
            for e in ep.epochs:  # an animation, one frame per epoch
                draw(e)
                time.sleep(0.5)
    else:
        epoch = ep.epochs[0]
    draw(int(epoch))
    render_chart(charts.class_accuracy_chart(ep.per_class_accuracy()), key=f"{key}_classes")
    st.dataframe(ep.learned_at(), hide_index=True, key=f"{key}_learned",
                 column_config={"final accuracy": st.column_config.NumberColumn(format="%.3f")})
    st.caption("Learned at: the first epoch from which the class's validation accuracy stayed at 90 % or more.")


def render_robustness_tab(run: Any, key: str = "results_robust") -> None:
    """Robustness curves of one run (computed on request, then stored)."""
    from explorer.inside.robustness import run_robustness

    got = _guard(run_robustness, run, compute=False)
    if got is None:
        return
    table = got[0]
    if table is None:
        if not render_background_view("robustness", {"run": str(run.path)},
                               "Accuracy on the test split under 8 growing perturbations, 6 severities each "
                               "(stored in the run folder).", "Compute robustness curves", f"{key}_go",
                               stamp=_stamp(run)):
            return
        got = _guard(run_robustness, run, compute=False)
        if got is None or got[0] is None:
            return
        table = got[0]
    render_wrapping_charts(charts.robustness_panels(table), key=f"{key}_chart", width=190, legend_below=False)
    wide = table.pivot_table(index=["label", "unit"], columns="severity", values="accuracy", sort=False)
    wide = wide.rename(columns=lambda s: f"severity {s}").reset_index()
    st.dataframe(wide, hide_index=True, key=f"{key}_table",
                 column_config={f"severity {s}": st.column_config.NumberColumn(format="%.3f") for s in range(6)})
    st.caption("Severity 0 is the untouched test split: it equals the run's test accuracy.")


# ------------------------------------------------------------------------------------- Compare runs
def _quiet(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, str | None]:
    """(fn's stored-or-computed result, None) or (None, the reason it is unavailable)."""
    try:
        return fn(*args, **kwargs)[0], None
    except (InsideError, FileNotFoundError, ValueError) as exc:
        return None, str(exc)


def render_compare_overlays(run_paths: Sequence[str], labels: Sequence[str], key: str = "cmp_inside") -> None:
    """Robustness curves of several runs on the same axes and the first two runs' PCA maps side by side
    (stored results; a button computes the missing ones)."""
    from explorer.inside.embedding import run_embedding
    from explorer.inside.robustness import run_robustness

    go = st.button("Compute the missing curves and maps (in the background)", key=f"{key}_go")
    frames, notes = [], []
    for path, label in zip(run_paths, labels, strict=True):
        table, why = _quiet(run_robustness, path, compute=False)
        if table is not None:
            frames.append(table.assign(run=label))
        else:
            notes.append(f"{label}: {why or start_job_quietly('robustness', {'run': str(path)}, go)}")
    render_followed_jobs([(kind, {"run": str(p), **extra}) for p in run_paths
                 for kind, extra in (("robustness", {}), ("embedding", {"method": "pca"}))], f"{key}_follow")
    st.markdown("**Robustness** (accuracy on the test split under growing perturbations)")
    if frames:
        render_wrapping_charts(charts.robustness_panels(pd.concat(frames)), key=f"{key}_robust", width=190, legend_below=False)
    for i, (col, path, label) in enumerate(zip(st.columns(2), run_paths[:2], labels[:2], strict=False)):
        emb, why = _quiet(run_embedding, path, "pca", compute=False)
        why = why or (start_job_quietly("embedding", {"run": str(path), "method": "pca"}, go) if emb is None else None)
        with col:
            if emb is not None:
                render_chart(charts.embedding_chart(emb.frame(), emb.centroids(), title=f"{label} (PCA)",
                                                       size=320, selectable=False), key=f"{key}_map_{i}")
            else:
                notes.append(f"{label}: {why or 'no embedding map stored yet'}")
    for note in dict.fromkeys(notes):
        st.caption(md_escape(note))
