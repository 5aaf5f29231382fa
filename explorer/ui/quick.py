"""The one-click quick model (Home and the empty Draw page): its time estimate on this machine and its button."""

from __future__ import annotations

import contextlib

import streamlit as st
from streamlit.errors import StreamlitAPIException

from explorer.config import TrainConfig
from explorer.devices import device_label
from explorer.names import format_duration
from explorer.runs import list_runs, runs_root
from explorer.train.estimate import RunEstimate, estimate_run
from explorer.train.jobs import JobBusyError
from explorer.train.recipes import get_recipe
from explorer.ui.jobs import job_manager


@st.cache_data(show_spinner=False, ttl=600, max_entries=8)
def _cached_estimate(root: str, device: str, completed: int) -> RunEstimate:
    """The quick recipe's estimate (recorded or measured), cached for 10 minutes per runs folder and run count."""
    return estimate_run(get_recipe("quick"), root, device)


def quick_estimate() -> RunEstimate | None:
    """The quick model's estimated wall time here; None (with a caption) when it cannot be measured."""
    root = str(runs_root())
    completed = sum(1 for r in list_runs(root) if r.status == "completed")
    try:
        with st.spinner("Timing a few training steps on this machine…"):
            return _cached_estimate(root, device_label(), completed)
    except (RuntimeError, ValueError, OSError) as exc:
        st.caption(f"No time estimate: {exc}")
        return None


def estimate_text(est: RunEstimate | None) -> str:
    """'about 3m 55s on this machine' (or '' when unknown)."""
    return f"about {format_duration(est.seconds)} on this machine" if est is not None else ""


def estimate_sentence(est: RunEstimate) -> str:
    """"Time estimate 3m 10s to 7m 08s for small_cnn · ... (measured: 5 timed training steps just now (...))"."""
    return (f"Time estimate {format_duration(est.low)} to {format_duration(est.high)} for {est.settings_text()} "
            f"({est.how}).")


def quick_button(key: str, switch_to_train: bool = True) -> bool:
    """The "Train the quick model" button with its estimate; starts the job (True) and opens the Train page."""
    est = quick_estimate()
    label = "Train the quick model" + (f" ({estimate_text(est)})" if est else "")
    busy = job_manager().busy_on(_device(), str(runs_root()))
    clicked = st.button(label, key=key, type="primary", icon=":material/bolt:", disabled=busy is not None,
                        help="Small CNN, 3 epochs on the built-in letters. " + (f"Estimate {est.how}." if est else ""))
    if est is not None:
        st.caption(estimate_sentence(est))
    if not clicked:
        return False
    try:
        job_manager().start(get_recipe("quick"), str(runs_root()), name="quick",
                            estimate=est.to_dict() if est is not None else None)  # compared with the real time later
    except (JobBusyError, ValueError) as exc:
        st.error(str(exc))
        return False
    if switch_to_train:
        with contextlib.suppress(StreamlitAPIException):  # a page run on its own (AppTest) stays here
            st.switch_page("app_pages/train.py")
    st.rerun()
    return True


def _device() -> str:
    """The device a new job would use ("cpu" or "cuda:N")."""
    from explorer.train.loop import resolve_device

    return str(resolve_device("auto"))


def render_estimate_caption(cfg: TrainConfig, root: str) -> None:
    """Under the Train form: the recorded time of a finished run with the same settings on this device, if any
    (the form's "Estimate time per epoch" button times a few steps for any other settings)."""
    from explorer.train.estimate import recorded_estimate

    est = recorded_estimate(cfg, root, device_label())
    if est is not None:
        st.caption(f"Estimated time: **{estimate_text(est)}** ({format_duration(est.low)} to "
                   f"{format_duration(est.high)}; {est.how}).")
