"""Streamlit views of explorer.trust: the Data page's label-issues tab, the deletion figure beside every
attribution (Explain, Draw), the sanity check on request, and Compare runs' per-image disagreement.

Run strings (names, ids, class names) are shown as escaped text only (never as raw HTML).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, replace
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from explorer.charts.trust import deletion_chart, disagreement_chart, sanity_chart, sanity_frame
from explorer.names import plural
from explorer.trust.faithfulness import SANITY_LIMIT, deletion, sanity_check
from explorer.ui.layout import render_chart
from explorer.untrusted import md_escape

PAGE_SIZE = 25


def model_title(name: str) -> str:
    """A registry model's card title (e.g. lenet_keras -> "LeNet (Keras variant)"), the name itself if unknown."""
    from explorer.models import get_card

    try:
        return get_card(name).title
    except (KeyError, ValueError):
        return name


# ----------------------------------------------------------------------------- faithfulness
def render_deletion_figure(model: Any, x: Any, ex: Any, key: str, seed: int = 0) -> None:
    """The compact deletion figure of one explanation, with its verdict against the random order."""
    try:
        d = deletion(model, x, ex.heatmap, ex.target, seed=seed)
    except (ValueError, RuntimeError) as exc:
        st.caption(f"No deletion curve: {md_escape(exc)}")
        return
    render_chart(deletion_chart(d, title="Deletion curve", width="container"), key=key)
    verdict = "beats" if d.area < d.area_random else "does not beat"
    st.caption(f"Area {d.area:.2f} vs {d.area_random:.2f} for a random order: the map {verdict} random "
               "(lower = removing its top pixels hurts the prediction sooner).")


def render_sanity(model: Any, x: Any, methods: Sequence[str], target: int | None, key: str) -> None:
    """On request: the cascading-randomisation sanity check of each method (Adebayo et al. 2018)."""
    from explorer.explain import method_title

    if not st.toggle("Sanity check: randomise the model's layers from the top (slower)", key=key):
        return
    cols = st.columns(min(3, len(methods)) or 1)
    for i, method in enumerate(methods):
        with cols[i % len(cols)], st.spinner(f"Randomising layers for {method_title(method)}..."):
            try:
                s = sanity_check(model, x, method, target=target)
            except (ValueError, RuntimeError) as exc:
                st.warning(f"{method_title(method)}: {md_escape(exc)}")
                continue
            render_chart(sanity_chart(s, SANITY_LIMIT, width="container"), key=f"{key}_{method}")
            if s.flagged:
                st.error(f"{method_title(method)}: rank correlation {s.final:.2f} after full randomisation: the map "
                         "hardly depends on the weights, so it does not explain this model.")
            else:
                st.success(f"{method_title(method)}: correlation falls to {s.final:.2f} (limit {SANITY_LIMIT}).")
            with st.expander("Steps"):
                st.dataframe(sanity_frame(s), hide_index=True, key=f"{key}_{method}_table")


# ----------------------------------------------------------------------------- label issues (Data page)
def _issue_settings(name: str, size: int | None, gen_seed: int) -> Any:
    """The label-issue pass settings form -> LabelIssueSpec."""
    from explorer.trust.labels import LabelIssueSpec

    c1, c2, c3, c4 = st.columns(4)
    model = c1.selectbox("Model per fold", ["lenet_keras", "small_cnn", "lenet5"], key="li_model",
                         format_func=model_title)
    folds = c2.number_input("Folds", 2, 10, 3, key="li_folds")
    epochs = c3.number_input("Epochs per fold", 1, 30, 6, key="li_epochs")
    seed = c4.number_input("Seed", 0, 10**6, 0, key="li_seed")
    return LabelIssueSpec(dataset=name, model=model, folds=int(folds), size=size, seed=int(seed), epochs=int(epochs),
                          gen_seed=gen_seed)


def _thumb(img: np.ndarray) -> str:
    """A uint8 (28, 28) image as a PNG data URL (for an ImageColumn)."""
    import base64
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img).resize((56, 56), Image.NEAREST).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _page_table(result: Any, pool_images: dict[str, np.ndarray], page: int) -> pd.DataFrame:
    """One page of the ranked table with thumbnails and an exclude column."""
    rows = result.table.iloc[page * PAGE_SIZE:(page + 1) * PAGE_SIZE].copy()
    rows.insert(0, "image", [_thumb(pool_images[s][i]) for s, i in zip(rows["split"], rows["index"], strict=True)])
    excluded = set(st.session_state.get("li_exclude", []))
    rows["exclude"] = [s == "train" and int(i) in excluded for s, i in zip(rows["split"], rows["index"], strict=True)]
    return rows


def render_label_issues_tab(spec: Any) -> None:
    """Find likely label errors of the chosen dataset, page through them, mark images to exclude from a new run."""
    from explorer.trust.labels import find_issues, load_pool

    st.caption("Each image is predicted by a model that never saw it (k-fold, trained here on the device); cleanlab "
               "then ranks the given labels by how unlikely they look. Cached per dataset, model, folds and seed.")
    li = _issue_settings(spec.name, spec.size, spec.gen_seed)
    result = st.session_state.get("li_result")
    if result is None or result.spec != li:
        from explorer.ui.view_jobs import render_background_view

        if not render_background_view("label_issues", {"spec": asdict(li)}, "Press **Find label issues** to rank this "
                               "dataset's images: the k-fold pass trains a model per fold.", "Find label issues",
                               "li_run"):
            return
        try:  # the job cached the k-fold probabilities: this only ranks them
            result = st.session_state["li_result"] = find_issues(li)
        except (ValueError, FileNotFoundError, OSError) as exc:
            st.error(md_escape(exc))
            return
    pool = load_pool(li)
    images = {s: pool.images[pool.split == s][np.argsort(pool.index[pool.split == s])] for s in ("train", "test")}
    _issues_table(result, images)
    _exclusion_actions(spec)


def _issues_table(result: Any, images: dict[str, np.ndarray]) -> None:
    """The paged ranked table; ticks in its exclude column update the exclusion list."""
    n_pages = max(1, -(-len(result.table) // PAGE_SIZE))
    flagged = int(result.table["flagged"].sum())
    st.write(f"{len(result.table):,} images ranked in {result.seconds:.1f} s"
             f"{' (cached probabilities)' if result.cached else ''}; cleanlab estimates {plural(flagged, 'label')} "
             f"wrong, so ranks 1 to {flagged:,} are flagged.")
    st.caption("Score = 1 − the probability the out-of-fold model gives the label as given: 1.000 means it is "
               "almost sure the label is wrong. Equal scores keep their dataset order.")
    page = st.number_input(f"Page (of {n_pages})", 1, n_pages, 1, key="li_page") - 1
    rows = _page_table(result, images, page)
    edited = st.data_editor(
        rows, key=f"li_editor_{page}", disabled=[c for c in rows.columns if c != "exclude"],
        column_config={"image": st.column_config.ImageColumn("image"),
                       "score": st.column_config.ProgressColumn("score", format="%.3f", min_value=0, max_value=1,
                                                                help="1 − probability of the given label"),
                       "flagged": st.column_config.CheckboxColumn(
                           "flagged", help="among the first N ranks, N = how many labels cleanlab estimates are wrong"),
                       "exclude": st.column_config.CheckboxColumn("exclude", help="training images only")})  # fmt: skip
    chosen = set(st.session_state.get("li_exclude", []))
    for split, idx, before, now in zip(rows["split"], rows["index"], rows["exclude"], edited["exclude"], strict=True):
        if split == "train" and bool(now) != bool(before):
            chosen.symmetric_difference_update({int(idx)})
        elif split == "test" and now:
            st.caption(f"Test image {int(idx)} stays: excluding test images would change the test split.")
    st.session_state["li_exclude"] = sorted(chosen)


def _exclusion_actions(spec: Any) -> None:
    """Show the exclusion list, offer it as JSON and start a training run without it."""
    from explorer.config import TrainConfig
    from explorer.ui.jobs import job_manager

    exclude = list(st.session_state.get("li_exclude", []))
    st.write(f"Exclusion list: **{plural(len(exclude), 'training image')}**.")
    if not exclude:
        return
    st.download_button("Download the exclusion list (JSON)", json.dumps({"dataset": spec.name, "exclude": exclude}),
                       "exclude.json", "application/json", key="li_download")
    c1, c2 = st.columns(2)
    model = c1.selectbox("Model for the new run", ["small_cnn", "lenet_keras", "resnet18"], key="li_train_model",
                         format_func=model_title)
    epochs = c2.number_input("Epochs", 1, 100, 3, key="li_train_epochs")
    if st.button("Train a new run without these images", key="li_train"):
        cfg = TrainConfig(model=model, epochs=int(epochs), data=replace(spec, exclude=tuple(exclude)))
        try:
            run = job_manager().start(cfg, name=f"{model}-minus-{len(exclude)}")
            st.success(f"Started run {run.run_id}; its config records the {len(exclude)} excluded images. "
                       "Follow it on the Train page.")
        except Exception as exc:  # busy device, refused config: a message, not a traceback
            st.error(f"Could not start the run: {md_escape(exc)}")


# ----------------------------------------------------------------------------- disagreement (Compare runs)
def render_disagreement(runs: Sequence[Any]) -> None:
    """Per-image disagreement of two of the picked runs, the counts per letter, both Grad-CAMs of one image."""
    from explorer.trust.disagree import A_ONLY, B_ONLY, disagreement

    st.subheader("Where two runs disagree, image by image")
    labels = [r.title for r in runs]
    c1, c2 = st.columns(2)
    ia = c1.selectbox("Run A", range(len(runs)), format_func=lambda i: labels[i], key="dis_a")
    ib = c2.selectbox("Run B", range(len(runs)), index=min(1, len(runs) - 1), format_func=lambda i: labels[i],
                      key="dis_b")
    if ia == ib:
        st.info("Choose two different runs.")
        return
    missing = [r for r in (runs[ia], runs[ib]) if not r.has_predictions()]
    if missing:
        st.info(f"{md_escape(missing[0].title)} has no saved test predictions yet: evaluate it with its "
                "**Evaluate now** button above the comparison, then its images pair with the other run's.")
        return
    try:
        d = disagreement(runs[ia], runs[ib])
    except (ValueError, FileNotFoundError, OSError) as exc:
        st.info(md_escape(exc))
        return
    st.write(f"{d.n:,} paired test images: accuracy A {d.accuracy('a'):.2%}, B {d.accuracy('b'):.2%}; "
             f"{len(d.rows(A_ONLY)):,} only A gets right, {len(d.rows(B_ONLY)):,} only B.")
    render_chart(disagreement_chart(d.counts(), width="container"), key="dis_counts")
    k1, k2 = st.columns(2)
    kind = k1.radio("Show", [A_ONLY, B_ONLY], horizontal=True, key="dis_kind")
    letter = k2.selectbox("True letter", ["(all)", *d.classes], key="dis_letter")
    rows = d.rows(kind, None if letter == "(all)" else letter)
    event = st.dataframe(rows, hide_index=True, key="dis_rows", on_select="rerun", selection_mode="single-row")
    picked = event.selection.rows if event is not None else []
    if picked:
        _both_gradcams(runs[ia], runs[ib], int(rows.iloc[picked[0]]["index"]))
    else:
        st.caption("Select a row to see both runs' Grad-CAMs of that image.")


def _both_gradcams(a: Any, b: Any, index: int) -> None:
    """Grad-CAM of test image `index` under run A and run B, side by side."""
    from explorer.explain import ExplainError, explain, overlay
    from explorer.run_models import load_run_model

    image = a.splits().test.images[index].numpy()
    for col, rd, tag in zip(st.columns(2), (a, b), ("A", "B"), strict=True):
        with col:
            try:
                model = load_run_model(rd)
                ex = explain(model, image, "gradcam")
            except (ExplainError, FileNotFoundError, ValueError, RuntimeError) as exc:
                st.warning(f"Run {md_escape(tag)}: no Grad-CAM ({md_escape(exc)})")
                continue
            classes = rd.classes
            st.image(overlay(image, ex.heatmap, scale=6), width=170,
                     caption=f"Run {tag} ({rd.title}): predicts {classes[ex.predicted]} (p={ex.probs[ex.predicted]:.2f})")
