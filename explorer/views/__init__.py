"""Heavy views as background jobs (issue 23, item 7): robustness curves, channels, embedding maps and label
issues run in a worker process of their own, like training, so they survive page changes and reloads.

jobs.py is the one job mechanism (a job folder `<runs root>/.jobs/<kind>-<hash>/job.json` that the worker
keeps up to date: state, fraction, what it is doing, estimate, error); kinds.py says what each kind runs and
how long it should take (measured on the run's model). Results are stored where the views store them
(Run.derived.write_arrays, the label-issue cache); a page reads them once the job is done."""

from __future__ import annotations

from explorer.lazy import lazy_names

# The names load on first use (PEP 562, explorer.lazy), so registering `view-job` imports nothing heavy.
_LAZY = {**dict.fromkeys(["JOBS_DIR", "ViewJob", "job_status", "start_job"], "jobs"),
         **dict.fromkeys(["KINDS", "estimate_view"], "kinds")}
__getattr__, __dir__ = lazy_names(__name__, _LAZY)
__all__ = sorted(_LAZY)
