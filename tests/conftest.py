"""Shared test helpers."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def page_path(name: str) -> str:
    """Absolute path of app_pages/<name>.py (AppTest resolves relative paths against the caller's file)."""
    return str(ROOT / "app_pages" / f"{name}.py")


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch):
    """Every test gets its own runs root, designs folder and machine-wide lock folder; the data cache is shared."""
    monkeypatch.setenv("EXPLORER_RUNS", str(tmp_path_factory.mktemp("runs")))
    monkeypatch.setenv("EXPLORER_LOCKS", str(tmp_path_factory.mktemp("locks")))
    monkeypatch.setenv("EXPLORER_DESIGNS", str(tmp_path_factory.mktemp("designs")))
    monkeypatch.chdir(ROOT)
