"""`python -m explorer data list|info|prepare`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from explorer.cli import main
from explorer.data import builtin


def test_list_and_info(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "list", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "letters-builtin" in out and "emnist-letters" in out and "fashion-mnist" in out
    assert main(["data", "info", "emnist-letters", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "124,800" in out and "how to get it" in out and "gzip.zip" in out


def test_prepare_builtin_with_progress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "prepare", "letters-builtin", "--root", str(tmp_path), "--size", "3", "--seed", "2"]) == 0
    captured = capsys.readouterr()
    assert "78 train + 260 test images, 26 classes" in captured.out
    assert "prepare letters-builtin" in captured.err  # the tqdm bar
    assert builtin.cache_path(tmp_path, 3, 2).is_file()


def test_user_errors_exit_2_without_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "explorer", "data", "prepare", "emnist-letters", "--root", str(tmp_path),
         "--path", str(tmp_path / "missing.zip")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "does not exist" in proc.stderr and "letters-builtin" in proc.stderr
    assert main(["data", "info", "no-such-set"]) == 2
