"""The Design page: build a network layer by layer. The draft lives in session_state["design_draft"] (a design's
JSON form, so what is saved is what was shown); each layer is a card with its output shape, the course's formula
with the numbers filled in, the inspector's parameters and MACs and the running totals; buttons move, edit and
remove it. A layer that cannot follow the one before says why and how to fix it, and nothing is built (or
listed as a model) until it is fixed."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from explorer.design import (
    LAYERS,
    Design,
    DesignError,
    Setting,
    check_name,
    default_layer,
    design_json,
    empty,
    layer_title,
    list_designs,
    load_design,
    parse_design,
    read_design_bytes,
    save_design,
    settings,
    starter,
    starter_names,
)
from explorer.design.spec import INPUT_SIDES
from explorer.inspect.design import DesignTable, design_table
from explorer.ui.run_picker import render_page_links
from explorer.untrusted import md_escape

DRAFT, IDS, EDITING, NEXT_ID = "design_draft", "design_ids", "design_editing", "design_next_id"
STARTER_TITLES = {"course-cnn": "The course's design (28 → 28 → 14 → 14 → 7)", "lenet5-1998": "LeNet-5 (1998 paper)",
                  "tiny-vgg": "Tiny VGG (CNN Explainer)"}
NEW = "(empty design)"


def _set_draft(design: Design) -> None:
    st.session_state[DRAFT] = design.to_dict()
    n = st.session_state.get(NEXT_ID, 0)
    st.session_state[IDS] = list(range(n, n + len(design.layers)))
    st.session_state[NEXT_ID] = n + len(design.layers)
    st.session_state[EDITING] = None
    st.session_state["design_name"] = design.name
    st.session_state["design_notes"] = design.notes
    st.session_state["design_side"] = design.input_size


def draft() -> dict[str, Any]:
    """The design being edited (an empty one named my-cnn at first)."""
    if DRAFT not in st.session_state:
        _set_draft(empty("my-cnn"))
    return st.session_state[DRAFT]


def _layers() -> list[dict[str, Any]]:
    return draft()["layers"]


def _new_id() -> int:
    n = st.session_state.get(NEXT_ID, 0)
    st.session_state[NEXT_ID] = n + 1
    return n


def add_layer(kind: str, after: int | None = None) -> None:
    """Insert a new layer of `kind` after position `after` (the end when None) and open it for editing."""
    at = len(_layers()) if after is None else after + 1
    _layers().insert(at, default_layer(kind))
    uid = _new_id()
    st.session_state[IDS].insert(at, uid)
    st.session_state[EDITING] = uid


def _add_chosen() -> None:
    add_layer(st.session_state.get("design_add_kind") or "conv")  # the palette's choice as it is now


def move_layer(i: int, step: int) -> None:
    """Move layer i up (step -1) or down (+1)."""
    j = i + step
    layers, ids = _layers(), st.session_state[IDS]
    if 0 <= j < len(layers):
        layers[i], layers[j] = layers[j], layers[i]
        ids[i], ids[j] = ids[j], ids[i]


def remove_layer(i: int) -> None:
    """Remove layer i."""
    _layers().pop(i)
    uid = st.session_state[IDS].pop(i)
    if st.session_state.get(EDITING) == uid:
        st.session_state[EDITING] = None


def toggle_edit(uid: int) -> None:
    """Open (or close) a layer's settings."""
    st.session_state[EDITING] = None if st.session_state.get(EDITING) == uid else uid


def _store_setting(i: int, name: str, key: str) -> None:
    _layers()[i][name] = st.session_state[key]


def start_from(choice: str) -> None:
    """Replace the draft by a starter, a saved design or an empty one."""
    if choice == NEW:
        _set_draft(empty("my-cnn"))
    elif choice in starter_names():
        _set_draft(starter(choice))
    else:
        _set_draft(load_design(choice.removeprefix("saved: ")))


def _import_upload() -> None:
    up = st.session_state.get("design_upload")
    st.session_state["design_import_error"] = "" if up is not None else "choose a .json design file first"
    if up is None:
        return
    try:
        _set_draft(read_design_bytes(up.getvalue(), up.name))
    except DesignError as exc:
        st.session_state["design_import_error"] = str(exc)


def _on_meta() -> None:
    d = draft()
    d["name"] = st.session_state["design_name"]
    d["notes"] = st.session_state["design_notes"]
    d["input_size"] = st.session_state["design_side"]


def current_design() -> tuple[Design, str]:
    """The draft as a Design and a problem with its name ("" when the name is fine)."""
    d = draft()
    problem = ""
    try:
        check_name(d["name"])
    except DesignError as exc:
        problem = str(exc)
    return parse_design({**d, "name": d["name"] if not problem else "unnamed"}), problem


@st.cache_resource(max_entries=32, show_spinner=False)
def cached_table(spec_json: str, num_classes: int) -> DesignTable:
    """The checked design with the inspector's counts, once per (design, classes)."""
    return design_table(parse_design(json.loads(spec_json)), num_classes)


def dataset_picker() -> tuple[str, int]:
    """The dataset the classifier is sized for -> (name, class count)."""
    from explorer.data import DATASET_NAMES, get_dataset_card

    names = list(DATASET_NAMES)
    name = st.selectbox("Dataset (the classifier's outputs)", names, key="design_dataset",
                        format_func=lambda n: f"{get_dataset_card(n).title} ({len(get_dataset_card(n).classes)} classes)")
    return name, len(get_dataset_card(name).classes)


def render_start_row() -> None:
    """Start from a starter or a saved design; the name, input side and notes."""
    saved = [f"saved: {d.name}" for d in list_designs()]
    options = [NEW, *starter_names(), *saved]
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.selectbox("Start from", options, key="design_start", width=320,
                              format_func=lambda o: STARTER_TITLES.get(o, o))
        st.button("Load", key="design_load", on_click=lambda: start_from(st.session_state["design_start"]),
                  icon=":material/download:",
                  help="replace the layers below by this design")
    draft()
    with st.container(horizontal=True):
        st.text_input("Name", key="design_name", on_change=_on_meta, width=240, max_chars=40,
                      help="letters, digits, '-' or '_'; the model is listed as design:NAME")
        st.number_input("Input side W = H", *INPUT_SIDES, key="design_side", on_change=_on_meta, width=160,
                        help="the square input the network sees: 28 for letters as they are, 32 zero-pads them "
                             "(as LeNet-5)")
    st.text_area("Notes", key="design_notes", on_change=_on_meta, height=68, max_chars=2000)


def _setting_widget(s: Setting, value: Any, key: str, i: int) -> None:
    if key not in st.session_state:
        st.session_state[key] = value
    kwargs = {"key": key, "on_change": _store_setting, "args": (i, s.name, key), "help": s.help or None}
    if s.kind is bool:
        st.checkbox(s.label or s.name, **kwargs)
    elif s.kind is int:
        st.number_input(s.label or s.name, int(s.lo), int(s.hi), step=1, width=130, **kwargs)
    else:
        st.number_input(s.label or s.name, float(s.lo), float(s.hi), step=0.05, width=130, **kwargs)


def _fmt(v: Any) -> str:
    return "—" if v is None else f"{v:,}"


def render_layer_cards(table: DesignTable) -> None:
    """One card per row: label, output, formula, params, MACs, totals; move/edit/remove; the open editor."""
    records = table.records()
    ids = st.session_state[IDS]
    for rec in records:
        i = rec["#"] - 1
        if rec["kind"] == "input":
            st.markdown(f"**Input** · {md_escape(rec['output'])} (W×H×D)")
            continue
        with st.container(border=True, key=f"design_row_{rec['#']}"):
            top = st.container(horizontal=True, vertical_alignment="center", gap="small")
            title = f"**{rec['#']}. {md_escape(rec['layer'])}** → {md_escape(rec['output'])}"
            top.markdown(title, width="content")
            head = top.container(horizontal=True, gap="small", width="content")
            if rec["kind"] != "classifier":
                uid = ids[i]
                head.button("", key=f"dl_up_{uid}", icon=":material/arrow_upward:", help="move up", type="tertiary",
                            on_click=move_layer, args=(i, -1), disabled=i == 0)
                head.button("", key=f"dl_down_{uid}", icon=":material/arrow_downward:", help="move down", type="tertiary",
                            on_click=move_layer, args=(i, 1), disabled=i == len(ids) - 1)
                if settings(rec["kind"]):
                    head.button("", key=f"dl_edit_{uid}", icon=":material/edit:", help="edit its settings", type="tertiary",
                                on_click=toggle_edit, args=(uid,))
                head.button("", key=f"dl_del_{uid}", icon=":material/delete:", help="remove it", type="tertiary",
                            on_click=remove_layer, args=(i,))
            if rec["formula"]:
                st.caption(md_escape(rec["formula"]))
            if rec["params"] is not None:
                st.caption(f"{_fmt(rec['params'])} parameters · {_fmt(rec['macs'])} MACs · so far "
                           f"{_fmt(rec['params_total'])} parameters, {_fmt(rec['macs_total'])} MACs")
            if rec["problem"] and not _layers():  # an empty design is a start, not a mistake: say what comes next
                st.info(md_escape(rec["problem"]), icon=":material/add_circle:")
            elif rec["problem"]:
                st.error(md_escape(rec["problem"]), icon=":material/block:")
            if rec["kind"] != "classifier" and st.session_state.get(EDITING) == ids[i]:
                with st.container(horizontal=True, key=f"design_edit_{ids[i]}"):
                    layer = _layers()[i]
                    for s in settings(rec["kind"]):
                        _setting_widget(s, layer[s.name], f"dl_{ids[i]}_{s.name}", i)
    shown = {r["#"] for r in records}
    later = [x for j, x in enumerate(_layers(), start=1) if j not in shown]
    if later:
        st.caption(f"{len(later)} more layer(s) below are checked once the layer above is fixed: "
                   + md_escape(", ".join(layer_title(x["type"]) for x in later)))


def render_palette() -> None:
    """Add a layer from the palette at the end."""
    with st.container(horizontal=True, vertical_alignment="bottom", key="design_palette"):
        st.selectbox("Add a layer", list(LAYERS), key="design_add_kind", format_func=layer_title, width=240)
        st.button("Add", key="design_add", icon=":material/add:", on_click=_add_chosen)


def render_design_totals(table: DesignTable) -> None:
    """Parameters, MACs and the output, or what stops the design from being built."""
    with st.container(horizontal=True, gap="medium"):
        st.metric("Parameters", f"{table.total_params:,}", border=True, width="content")
        st.metric("MACs", f"{table.total_macs:,}", border=True, width="content")
        st.metric("Layers + classifier", f"{len(draft()['layers'])} + 1", border=True, width="content")
    err = table.check.error
    if err is not None:
        where = "the classifier" if err.kind == "classifier" else f"layer {err.index} ({md_escape(err.label)})"
        st.warning(f"Not built yet: {where} cannot follow the layer before it; the reason and a fix are below.",
                   icon=":material/construction:")


def render_save(design: Design, name_problem: str, table: DesignTable) -> None:
    """Save (then train it), export as a file, import a file, delete a saved design."""
    if name_problem:
        st.error(md_escape(name_problem))
    with st.container(horizontal=True, vertical_alignment="center"):
        saved = st.button("Save", key="design_save", type="primary", icon=":material/save:",
                          disabled=bool(name_problem))
        st.download_button("Export .json", design_json(design), f"{design.name}.json", "application/json",
                           key="design_export", icon=":material/file_download:", disabled=bool(name_problem))
    if saved:
        path = save_design(design)
        st.session_state["design_saved"] = design.name
        st.success(f"Saved {md_escape(design.name)} to {md_escape(path)}."
                   + (" It is the model **design:" + md_escape(design.name) + "** on Inspect, Train and every other "
                      "page." if table.ok else " It becomes a model once every layer fits."))
    if st.session_state.get("design_saved") == design.name and table.ok:
        render_page_links([("train", "Train it", ":material/model_training:"),
                           ("inspect", "Inspect it", ":material/search:")])
    with st.expander("Import or delete"):
        st.file_uploader("Import a design file (.json)", type=["json"], key="design_upload")
        st.button("Load the file", key="design_import", on_click=_import_upload)
        if st.session_state.get("design_import_error"):
            st.error(md_escape(st.session_state["design_import_error"]))
        names = [d.name for d in list_designs()]
        if names:
            victim = st.selectbox("Saved design", names, key="design_victim")
            sure = st.checkbox(f"Yes, delete {victim} (runs trained on it keep their copy)",
                               key=f"design_sure_{victim}")
            if st.button("Delete", key="design_delete", disabled=not sure, icon=":material/delete:"):
                from explorer.design import delete_design

                delete_design(victim)
                st.session_state.pop(f"design_sure_{victim}", None)
                st.rerun()
