"""The Look inside page (app_pages/inside.py): what each channel looks for and the embedding map of the test
split (with a point's Grad-CAM). The stored views other pages show are explorer.ui.inside_views."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from explorer.charts import inside as charts
from explorer.ui.inside_views import guarded, view_stamp
from explorer.ui.layout import render_chart
from explorer.ui.view_jobs import render_background_view
from explorer.untrusted import md_escape

PAGE_SIZE = 12


# ------------------------------------------------------------------------------------- channels
def render_channels(run: Any) -> None:
    """Pick a layer, compute (or load) its channels' top images, and page through the channels."""
    from explorer.inside.channels import run_channels, spatial_layers
    from explorer.inside.common import run_model

    model = guarded(run_model, run)
    if model is None:
        return
    layers = [f"{name} ({c}x{h}x{w})" for name, (c, h, w) in spatial_layers(model)]
    names = [label.rsplit(" (", 1)[0] for label in layers]
    pick = st.selectbox("Layer (layers with spatial extent)", layers, index=len(layers) - 1, key="inside_layer")
    layer = names[layers.index(pick)]
    got = guarded(run_channels, run, layer, compute=False)
    if got is None:
        return
    tops, _ = got
    if tops is None:
        if not render_background_view("channels", {"run": str(run.path), "layer": layer},
                               "This layer has not been looked at yet: one pass over the test split finds each "
                               "channel's strongest images (stored in the run folder, so the next visit is instant).",
                               "Find each channel's top images", "inside_channels_go", stamp=view_stamp(run)):
            return
        got = guarded(run_channels, run, layer, compute=False)
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
    got = guarded(run_embedding, run, method, compute=False)
    if got is None:
        return
    emb = got[0]
    if emb is None:
        intro = ("PCA of the penultimate features of every test image" if method == "pca" else
                 "t-SNE of the penultimate features of every test image") + " (stored in the run folder once computed)."
        if not render_background_view("embedding", {"run": str(run.path), "method": method}, intro,
                               f"Compute the {'PCA' if method == 'pca' else 't-SNE'} map", f"inside_{method}_go",
                               stamp=view_stamp(run), auto=method == "pca"):
            return
        got = guarded(run_embedding, run, method, compute=False)
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
    from explorer.ui.explanation import render_explanation, weights_stamp

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
