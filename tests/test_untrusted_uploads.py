"""Issue 20: uploads are bounded and raster-only (no Ghostscript), the config says so, the Data page's
path box is confined to the data root, and the Train form survives a hostile Stages field."""

from __future__ import annotations

import contextlib
import io
import os
import stat
import subprocess
import sys
import tomllib
import zlib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.data.confine import OutsideDataRootError, path_under_root
from explorer.data.preprocess import MAX_UPLOAD_BYTES, ImageError, load_image_bytes
from tests.conftest import page_path

ROOT = Path(__file__).resolve().parents[1]


def flat_png(width: int, height: int) -> bytes:
    """A flat-black RGBA PNG of any size, written row by row (small file, huge image)."""
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    comp = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * (4 * width)
    body = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\nnewpath 0 0 moveto 100 100 lineto stroke\nshowpage\n"


def test_88_megapixel_png_refused_from_the_header_without_decoding(tmp_path):
    png = tmp_path / "bomb.png"
    png.write_bytes(flat_png(9400, 9400))
    assert png.stat().st_size < 2_000_000
    probe = (
        "import resource, sys, time\n"
        "from explorer.data.preprocess import ImageError, load_image_bytes\n"
        f"data = open({str(png)!r}, 'rb').read()\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "t = time.perf_counter()\n"
        "try:\n    load_image_bytes(data)\nexcept ImageError as exc:\n    print('REFUSED', exc)\n"
        "print('SECONDS', time.perf_counter() - t)\n"
        "print('GROWTH_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    assert "9400x9400 = 88,360,000 pixels" in lines["REFUSED"] and "crop or shrink" in lines["REFUSED"]
    assert float(lines["SECONDS"]) < 1.0
    assert int(lines["GROWTH_KB"]) < 50_000  # decoding would take 88 M x 4 bytes = 337 MiB


def test_large_photo_is_shrunk_before_arrays():
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (3000, 2000), 255).save(buf, "PNG")
    image = load_image_bytes(buf.getvalue())
    assert max(image.size) == 1024 and image.size == (1024, 683)


def test_eps_named_png_never_starts_ghostscript(tmp_path, monkeypatch):
    calls = tmp_path / "gs-calls.txt"
    fake = tmp_path / "bin" / "gs"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\necho \"$@\" >> {calls}\n[ \"$1\" = --version ] && echo 10.05.0 && exit 0\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    from PIL import EpsImagePlugin

    monkeypatch.setattr(EpsImagePlugin, "gs_binary", None)  # Pillow looks gs up again (finds the stand-in)
    monkeypatch.setattr(EpsImagePlugin, "gs_windows_binary", None)
    with pytest.raises(ImageError, match="not an image in a supported format"):
        load_image_bytes(EPS)
    assert not calls.exists()
    # the stand-in works: Pillow's EPS plugin, reached without the allow-list, would have started it
    from PIL import Image

    with contextlib.suppress(OSError, subprocess.CalledProcessError):  # the stand-in exits 1 when asked to render
        Image.open(io.BytesIO(EPS)).load()
    assert calls.exists()


def test_explain_cli_refuses_the_bomb_with_a_clear_message(tmp_path):
    from tests.run_fixtures import make_run

    run = make_run(tmp_path / "runs", name="cli")
    png = tmp_path / "bomb.png"
    png.write_bytes(flat_png(9400, 9400))
    out = subprocess.run([sys.executable, "-m", "explorer", "explain", str(run.path), str(png),
                          "--out", str(tmp_path / "x.png")],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 2, out.stderr + out.stdout
    assert "88,360,000 pixels" in out.stderr and "Traceback" not in out.stderr


def test_streamlit_config_hides_tracebacks_and_bounds_uploads():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["client"]["showErrorDetails"] == "none"
    assert cfg["server"]["maxUploadSize"] * 1024 * 1024 == MAX_UPLOAD_BYTES


def test_draw_and_explain_uploaders_accept_the_same_raster_types():
    from explorer.data.preprocess import RASTER_FORMATS, UPLOAD_TYPES

    assert "eps" not in UPLOAD_TYPES and "pdf" not in UPLOAD_TYPES and "EPS" not in RASTER_FORMATS
    src = (ROOT / "explorer" / "ui" / "draw.py").read_text() + (ROOT / "explorer" / "ui" / "explain.py").read_text()
    assert src.count("type=UPLOAD_TYPES") == 2
    assert "unsafe_allow_html" not in "".join(p.read_text() for p in (ROOT / "explorer").rglob("*.py"))
    assert "unsafe_allow_html" not in "".join(p.read_text() for p in (ROOT / "app_pages").rglob("*.py"))


def test_path_box_is_confined_to_the_data_root(tmp_path):
    root = tmp_path / "data"
    (root / "emnist").mkdir(parents=True)
    (tmp_path / "secret.zip").write_bytes(b"PK")
    assert path_under_root("emnist", root) == (root / "emnist").resolve()
    messages = set()
    for bad in ("~", "~/.ssh", "/etc/shadow", "/root/.ssh", str(tmp_path / "secret.zip"), "../secret.zip",
                "emnist/../../secret.zip", "missing.zip", ""):
        with pytest.raises(OutsideDataRootError) as err:
            path_under_root(bad, root)
        messages.add(str(err.value))
    assert len(messages) == 1 and messages.pop().startswith("Not a valid EMNIST file here.")
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(OutsideDataRootError):
        path_under_root("link/secret.zip", root)


def test_data_page_path_box_says_only_not_valid_here(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_DATA", str(tmp_path / "data"))
    at = AppTest.from_file(page_path("data"), default_timeout=120)
    at.session_state["data_size"] = 10
    at.run()
    at.selectbox(key="data_name").set_value("emnist-letters").run()
    answers = []
    for probe in ("/etc/shadow", "/root/.ssh", "~/.bashrc", "/nonexistent"):
        at.text_input(key="data_emnist_path").set_value(probe).run()
        at.button(key="data_use_path").click().run()
        assert not at.exception, at.exception
        answers.append(at.error[0].value)
    assert len(set(answers)) == 1 and answers[0].startswith("Not a valid EMNIST file here.")


def test_train_form_deeply_nested_stages_is_a_message():
    at = AppTest.from_file(page_path("train"), default_timeout=120).run()
    at.selectbox(key="recipe").set_value("xception_two_stage").run()
    at.text_area(key="xception_two_stage:stages").set_value("[" * 5000 + "]" * 5000)
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    assert any("nested too deeply" in e.value or "characters" in e.value for e in at.error), [e.value for e in at.error]
