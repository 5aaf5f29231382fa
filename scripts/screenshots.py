"""Screenshots of the main pages for the README: `make screenshots` (or this file, from the project root).

Trains two small runs into a temporary runs folder (so Results, Explain, Draw and Compare runs have
something to show), starts `streamlit run app.py` on a free port, opens each page in headless Debian
Chromium (/usr/bin/chromium via playwright; never a downloaded browser) and saves a screenshot of the
window into assets/screenshots/<page>.png (palette PNGs, to keep the repository small).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
# (file stem, url path of the page, optional action before the shot)
PAGES = [
    ("inspect", "inspect", "table"),
    ("train", "train", None),
    ("results", "results", None),
    ("explain", "explain", None),
    ("draw", "draw", "example"),
    ("compare_runs", "compare_runs", None),
]


def _free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_runs(runs: Path, epochs: int) -> None:
    """Two quick runs (different seeds and learning rates) into ``runs``."""
    for name, extra in (("quick-cnn", []), ("quick-cnn-lr0.01", ["--lr", "0.01", "--seed", "1"])):
        cmd = [sys.executable, "-m", "explorer", "train", "--epochs", str(epochs), "--runs", str(runs),
               "--name", name, "--no-progress", *extra]
        print("$", " ".join(cmd[1:]), flush=True)
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def wait_idle(page, timeout_ms: int = 180_000) -> None:
    """Until the page has its title and Streamlit has stopped running."""
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stMain\"] h1')"
        " && !document.querySelector('[data-testid=\"stSkeleton\"]')"
        " && !document.body.innerText.includes('Running...')",
        timeout=timeout_ms,
    )


def shoot(out: Path, runs: Path, width: int, height: int, settle_ms: int) -> list[Path]:
    """Start the app on ``runs`` and save one screenshot per page into ``out``."""
    from playwright.sync_api import sync_playwright

    port = _free_port()
    env = {**os.environ, "EXPLORER_RUNS": str(runs)}
    log = open(out / "server.log", "w")  # noqa: SIM115  (closed below)
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                               "--server.address", "127.0.0.1", "--server.headless", "true",
                               "--browser.gatherUsageStats", "false"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    written = []
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(base + "/_stcore/health", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the app did not start; see {out / 'server.log'}") from None
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(base + "/")
            wait_idle(page)
            for i, (stem, url_path, action) in enumerate(PAGES):
                if i:  # the first page (Inspect) is the start page, already open at "/"
                    page.locator(f"[data-testid=stSidebarNavLink][href$='/{url_path}']").click()
                    page.wait_for_url(f"**/{url_path}")
                    wait_idle(page)
                if action == "table":  # the per-layer table and charts render after the model is summarised
                    page.locator("[data-testid=stDataFrame]").first.wait_for(timeout=180_000)
                    wait_idle(page)
                if action == "example":
                    page.get_by_text("Try an example", exact=True).click()
                    page.get_by_text("reads", exact=False).first.wait_for(timeout=120_000)
                    wait_idle(page)
                page.wait_for_timeout(settle_ms)
                path = out / f"{stem}.png"
                page.screenshot(path=str(path))
                Image.open(path).convert("RGB").quantize(colors=128, dither=Image.Dither.NONE).save(path, optimize=True)
                print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KiB", flush=True)
                written.append(path)
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        (out / "server.log").unlink(missing_ok=True)
    return written


def main() -> int:
    """Parse the options, train the runs, take the screenshots."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "assets" / "screenshots")
    ap.add_argument("--runs", type=Path, default=None,
                    help="runs folder to show (two runs are trained into it when it holds none); default: a temporary one")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--width", type=int, default=1400)
    ap.add_argument("--height", type=int, default=900)
    ap.add_argument("--settle", type=int, default=2500, help="ms to let charts finish drawing")
    a = ap.parse_args()
    if not Path(CHROMIUM).is_file():
        print(f"error: Debian's Chromium is not at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 2
    a.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="explorer-shots-") as tmp:
        runs = a.runs or Path(tmp) / "runs"
        if not runs.is_dir() or not any(runs.iterdir()):
            train_runs(runs, a.epochs)
        shoot(a.out, runs, a.width, a.height, a.settle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
