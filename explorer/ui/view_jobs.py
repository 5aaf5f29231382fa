"""A heavy view as a background job on a page (explorer.views): the measured estimate and a start button, then
a progress bar that polls the job every second (a run_every fragment, so the page stays responsive) and keeps
going when the user leaves the page and comes back; when the job is done the page reruns and shows the result
(the "not looked at yet" box is gone with it)."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from explorer.names import format_duration
from explorer.runs import runs_root
from explorer.untrusted import md_escape
from explorer.views import estimate_view, job_status, start_job
from explorer.views.kinds import TITLES


@st.cache_data(show_spinner=False, ttl=600, max_entries=32)
def _estimate(kind: str, params_json: str, root: str, stamp: float) -> tuple[float | None, str]:
    """estimate_view, cached per view, runs folder and weights stamp; (None, reason) when it cannot be made."""
    try:
        return estimate_view(kind, json.loads(params_json), root)
    except (ValueError, OSError, RuntimeError, KeyError) as exc:
        return None, str(exc)


def render_background_view(kind: str, params: dict[str, Any], intro: str, button: str, key: str,
                    stamp: float = 0.0, auto: bool = False) -> bool:
    """True when the job of `kind` with `params` has finished after `stamp` (the weights' time: an older one is
    stale) and the caller reads the stored result; otherwise show the intro with the measured estimate and a
    start button (`auto`: start at once, for a quick view), the running job's progress, or its failure."""
    root = str(runs_root())
    job = job_status(kind, params, root)
    if job is not None and job.state == "done" and job.updated >= stamp:
        return True
    if job is not None and job.active:
        _progress(kind, params, root, key)
        return False
    if job is not None and job.state == "failed":
        st.error(f"{TITLES[kind]} failed: {md_escape(job.error or 'unknown error')}")
    seconds, how = _estimate(kind, json.dumps(params, sort_keys=True), root, stamp)
    when = (f" Estimated **{format_duration(seconds)}** here ({md_escape(how)})." if seconds is not None
            else f" (No estimate: {md_escape(how)}.)")
    st.info(intro + when + " It runs in the background: you may leave this page and come back.")
    if (auto and job is None) or st.button(button, key=key, type="primary"):
        try:
            start_job(kind, params, root, estimate_s=seconds)
        except (ValueError, OSError) as exc:
            st.error(f"Could not start: {md_escape(exc)}")
            return False
        st.rerun()
    return False


def _progress(kind: str, params: dict[str, Any], root: str, key: str) -> None:
    """The running job's bar and time left, polled every second; a finished job reruns the whole page."""

    @st.fragment(run_every=1.0)
    def poll() -> None:
        job = job_status(kind, params, root)
        if job is None or not job.active:
            st.rerun(scope="app")  # done or failed: the page shows the result (or the error)
            return
        left = job.time_left()
        tail = f" · {format_duration(job.elapsed())} so far" + (f", about {format_duration(left)} left"
                                                                  if left is not None else "")
        st.progress(job.fraction, text=md_escape(f"{TITLES[kind]}: {job.text}{tail}"))
        st.caption("Running in the background (its own process): leaving this page does not stop it.")

    with st.container(key=f"{key}_job"):
        poll()


def start_job_quietly(kind: str, params: dict[str, Any], go: bool) -> str:
    """For a view shown for several runs (Compare runs): start its job when `go` (unless one runs already) and
    say in words where it stands; a page with such jobs running calls render_followed_jobs."""
    root = str(runs_root())
    job = job_status(kind, params, root)
    if go and (job is None or not job.active):
        try:
            job = start_job(kind, params, root)
        except (ValueError, OSError) as exc:
            return f"could not start: {exc}"
    if job is not None and job.active:
        return f"computing in the background ({job.fraction:.0%}: {job.text})"
    if job is not None and job.state == "failed":
        return f"failed: {job.error}"
    return f"no {TITLES[kind].lower()} stored yet"


def render_followed_jobs(jobs: list[tuple[str, dict[str, Any]]], key: str) -> None:
    """While any of these view jobs runs: poll every 2 s; rerun the page once none runs."""
    root = str(runs_root())
    if not any((j := job_status(kind, params, root)) is not None and j.active for kind, params in jobs):
        return

    @st.fragment(run_every=2.0)
    def poll() -> None:
        if not any((j := job_status(kind, params, root)) is not None and j.active for kind, params in jobs):
            st.rerun(scope="app")

    with st.container(key=key):
        poll()
