"""Heavy views as background jobs (issue 23, item 7): robustness curves, channels, embedding maps and label
issues run in a worker process of their own, like training, so they survive page changes and reloads.

jobs.py is the one job mechanism (a job folder `<runs root>/.jobs/<kind>-<hash>/job.json` that the worker
keeps up to date: state, fraction, what it is doing, estimate, error); kinds.py says what each kind runs and
how long it should take (measured on the run's model). Results are stored where the views store them
(Run.write_view, the label-issue cache); a page reads them once the job is done."""

from explorer.views.jobs import JOBS_DIR, ViewJob, job_status, start_job
from explorer.views.kinds import KINDS, estimate_view

__all__ = ["JOBS_DIR", "KINDS", "ViewJob", "estimate_view", "job_status", "start_job"]
