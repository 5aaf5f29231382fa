"""Streamlit helpers for the Home page: the newcomer's path (train, draw, see why) and the app's state."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from explorer.names import format_duration, plural, run_title
from explorer.pin import default_run
from explorer.progress import epoch_fraction, epoch_text, number
from explorer.runs import RunInfo, list_runs, runs_root
from explorer.ui.run_picker import render_page_link, render_page_links

if TYPE_CHECKING:
    from streamlit.delta_generator import DeltaGenerator

# torch-heavy modules (explorer.ui.train, explorer.ui.quick) are imported inside the functions that need them,
# so the page's title and path show at once on a cold start


def saved_runs() -> list[RunInfo]:
    """The saved runs (empty, with a warning, when the runs folder cannot be read)."""
    try:
        return list_runs()
    except OSError as exc:
        st.warning(f"Cannot read the runs folder `{runs_root()}`: {exc}")
        return []


def render_state(runs: list[RunInfo]) -> None:
    """Runs saved, the job running now (with its progress) and the device, as metrics that wrap."""
    from explorer.devices import device_label
    from explorer.ui.sweep import resume_after_restart

    resume_after_restart(str(runs_root()))  # a sweep queue cut by a restart or reboot goes on
    completed = [r for r in runs if r.status == "completed"]
    with st.container(horizontal=True, gap="medium"):
        st.metric("Runs saved", len(runs), help=f"{len(completed)} completed · folder `{runs_root()}`", width=160)
        active = [r for r in runs if r.status == "running"]
        st.metric("Job running", run_title(active[0]) if active else "none", width=260)
        st.metric("Device", device_label().split(" (")[0], help=device_label(), width=160)


@st.fragment(run_every=1.0)
def render_job_progress() -> None:
    """Progress of the job training now (polled every second); reruns the page when it ends."""
    from explorer.ui.jobs import job_manager

    active = job_manager().active(str(runs_root()))
    if not active:
        if st.session_state.pop("home_was_running", False):
            st.rerun(scope="app")
        return
    st.session_state["home_was_running"] = True
    run = active[0]
    status = run.status
    epochs = int(number(status.get("epochs")) or run.train_config().total_epochs or 1)
    eta = format_duration(status.get("eta_s")) if number(status.get("eta_s")) > 0 else "…"
    st.progress(epoch_fraction(status, epochs),
                text=f"Training {run_title(run)}: {status.get('phase') or 'starting'}, "
                     f"{epoch_text(status, epochs)}, {eta} left")
    render_page_link("train", "Watch it on the Train page", ":material/model_training:")


def render_step(number_: int, title: str, done: bool) -> None:
    """A numbered step heading, ticked when done."""
    mark = " :material/check_circle:" if done else ""
    st.markdown(f"#### {number_}. {title}{mark}")


def path_steps(runs: list[RunInfo]) -> DeltaGenerator:
    """The newcomer's path: 1) train the quick model, 2) draw a letter, 3) see why; returns step 1's slot.

    Step 1's button (with its measured time) goes into the slot last, with `render_quick_step`, so the rest shows first.
    """
    completed = [r for r in runs if r.status == "completed"]
    with st.container(border=True):
        render_step(1, "Train the quick model", bool(completed))
        st.write("A small CNN learns the 26 letters from the built-in dataset (no download).")
        slot = st.empty()
        if completed:
            choice = default_run(runs)
            opens = (f"; the pages open on **{run_title(choice.run)}**, {choice.reason}" if choice.run is not None
                     else "")
            st.caption(f"You already have {plural(len(completed), 'trained run')}{opens}.")
    with st.container(border=True):
        render_step(2, "Draw a letter", False)
        st.write("Draw with the mouse; every saved model reads it after each stroke.")
        render_page_link("draw", "Draw a letter", ":material/draw:")
    with st.container(border=True):
        render_step(3, "See why", False)
        st.write("Where the model goes wrong (confusion matrix, mistakes) and what it looks at (Grad-CAM).")
        render_page_links([("results", "Results", ":material/monitoring:"),
                           ("explain", "Explain", ":material/local_fire_department:")])
    return slot


def render_quick_step(slot: DeltaGenerator, runs: list[RunInfo]) -> None:
    """Fill step 1: the running job's progress, or the quick-model button with its estimated time here."""
    from explorer.ui.quick import quick_button

    with slot.container():
        if any(r.status == "running" for r in runs):
            render_job_progress()
        else:
            quick_button("home_train_quick")


def render_explore_more() -> None:
    """Links onward: architectures, data, training your own, comparing runs."""
    st.markdown("#### Then explore")
    render_page_links([("inspect", "Inspect an architecture", ":material/search:"),
                       ("compare_architectures", "Compare architectures", ":material/scatter_plot:"),
                       ("data", "Look at the data", ":material/text_fields:"),
                       ("train", "Train other models", ":material/model_training:"),
                       ("compare_runs", "Compare runs", ":material/compare:")])
