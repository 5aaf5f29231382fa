"""Real servers for the tests past one machine, started by the tests and bound to 127.0.0.1: a throw-away
PostgreSQL cluster (Debian's `postgresql`, initdb in a temp folder; as the `postgres` user when the tests
run as root, which PostgreSQL refuses) and an `mlflow server` (sqlite backend, local artifacts), each skipped
with the reason when it cannot start; free_port for any server a test starts."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

PG_USER, PG_PASSWORD, PG_DB = "explorer", "s3cret-pw", "sweeps"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout_s: float, interval_s: float = 0.2) -> str | None:
    """Poll a server's health URL until it answers 200 (None), its process exits or `timeout_s` passes (the
    reason, for the caller's skip or failure); polling a health endpoint with a deadline, not a sleep."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            return f"it exited with {proc.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return None
        except OSError:
            pass
        if time.monotonic() > deadline:
            return f"it did not answer {url} within {timeout_s:g} s"
        time.sleep(interval_s)


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


@contextmanager
def postgres() -> Iterator[str]:
    """A PostgreSQL server on 127.0.0.1 with password authentication; yields the database URL."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; .ci/run does): shared-sweep tests "
                    "skipped")
    try:
        import psycopg
    except ImportError:
        pytest.skip("psycopg is not installed (it is in the lock's dev extra)")
    as_user: list[str] = []
    home = Path(tempfile.mkdtemp(prefix="explorer-pg-"))  # under /tmp itself: the postgres user can reach it
    if os.getuid() == 0:
        if not shutil.which("runuser"):
            pytest.skip("running as root without runuser: PostgreSQL refuses to run as root")
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(home, "postgres", "postgres")
    data, pw, port = home / "data", home / "pw", free_port()
    pw.write_text(PG_PASSWORD)
    if as_user:
        shutil.chown(pw, "postgres", "postgres")
    env = {**os.environ, "LC_ALL": "C"}
    try:
        subprocess.run([*as_user, initdb, "-D", str(data), "-U", PG_USER, f"--pwfile={pw}", "-A", "scram-sha-256",
                        "--no-sync", "-E", "UTF8"], check=True, capture_output=True, env=env, timeout=120)
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-l", str(home / "log"), "-w", "-t", "60", "-o",
                        f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60",
                        "start"], check=True, capture_output=True, env=env, timeout=120)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        log = (home / "log").read_text(errors="replace")[-1500:] if (home / "log").exists() else ""
        shutil.rmtree(home, ignore_errors=True)
        pytest.skip(f"PostgreSQL did not start: {getattr(exc, 'stderr', b'') or b''!r} {log}")
    try:
        with psycopg.connect(host="127.0.0.1", port=port, user=PG_USER, password=PG_PASSWORD, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {PG_DB}")
        yield f"postgresql://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{port}/{PG_DB}"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True,
                       timeout=60)
        shutil.rmtree(home, ignore_errors=True)


MLFLOW_START_S = 90.0  # a cold `mlflow server` on two busy cores: imports, migrations, then uvicorn


@contextmanager
def mlflow_server() -> Iterator[str]:
    """A real `mlflow server` (sqlite backend, local artifacts, proxied artifact access) on 127.0.0.1; yields its
    http URI once /health answers, skipped with the reason when it does not start; killed (its process group)
    and its folder removed after."""
    import signal
    import sys

    exe = Path(sys.executable).with_name("mlflow")
    if not exe.is_file():
        pytest.skip(f"mlflow server not installed ({exe} missing; optional extra: pip install mlflow)")
    home = Path(tempfile.mkdtemp(prefix="explorer-mlflow-"))
    port = free_port()
    log = open(home / "log", "wb")  # noqa: SIM115  (the server's, closed in finally)
    proc = subprocess.Popen([str(exe), "server", "--backend-store-uri", f"sqlite:///{home / 'db.sqlite'}",
                             "--artifacts-destination", str(home / "art"), "--host", "127.0.0.1", "--port", str(port),
                             "--workers", "1"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})  # no job workers
    uri = f"http://127.0.0.1:{port}"
    try:
        problem = wait_healthy(f"{uri}/health", proc, MLFLOW_START_S, interval_s=0.5)
        if problem:
            pytest.skip(f"mlflow server: {problem}: {(home / 'log').read_text(errors='replace')[-1500:]}")
        yield uri
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
        log.close()
        shutil.rmtree(home, ignore_errors=True)
