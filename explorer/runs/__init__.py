"""The runs store: one folder per run under a runs root (default ./runs, env EXPLORER_RUNS).

The package face re-exports the public names, so `from explorer.runs import X` works for every X. Modules:
layout (the file names of a run folder), checks (the one guard of what a run folder holds: RunFileError),
record (RunRecord: config.json read and checked once per change; versions), run (Run: status, history, metrics,
predictions, weights, writers), split (a run's test split), checkpoint (the save/load/settle protocol), derived
(the one keyed store of derived results), store (create, open, list, rename, tag, delete, stale cleanup,
check_output/check_deletable), archive (zip export/import). Nothing here unpickles untrusted data.
"""

from explorer.io import runs_root
from explorer.runs.archive import (
    IMPORT_CAPS,
    MAX_IMPORT_BYTES,
    MAX_RATIO,
    admit_staged,
    export_run,
    export_run_bytes,
    import_run,
    portable_files,
)
from explorer.runs.checkpoint import Checkpoint
from explorer.runs.checks import (
    RunFileError,
    check_history_row,
    check_metrics,
    check_status,
    effective_status,
)
from explorer.runs.derived import Derived
from explorer.runs.layout import CONFIG, RUN_FILES, STATUSES, STOP_FILE
from explorer.runs.record import RunRecord, check_config, read_record, versions
from explorer.runs.run import Predictions, Run, RunInfo, weights_stamp
from explorer.runs.split import TestSplit
from explorer.runs.store import (
    check_deletable,
    check_output,
    clean_stale,
    clean_tag,
    create_run,
    delete_run,
    existing_runs_root,
    list_runs,
    open_run,
    rename_run,
    run_dirs,
    tag_run,
)

__all__ = [
    "CONFIG", "IMPORT_CAPS", "MAX_IMPORT_BYTES", "MAX_RATIO", "RUN_FILES", "STATUSES", "STOP_FILE", "Checkpoint", "Derived",
    "Predictions", "Run", "RunFileError", "RunInfo", "RunRecord", "TestSplit", "admit_staged", "check_config", "check_deletable",
    "check_history_row", "check_metrics", "check_output", "check_status", "clean_stale", "clean_tag", "create_run",
    "delete_run", "effective_status", "existing_runs_root", "export_run", "export_run_bytes", "import_run",
    "list_runs", "open_run", "portable_files", "read_record", "rename_run", "run_dirs", "runs_root", "tag_run", "versions",
    "weights_stamp",
]
