"""Local by default: the app binds to localhost (Streamlit's default is every interface), and the
README says how to share it on a trusted network and what that exposes."""

from __future__ import annotations

import subprocess
import sys
import tomllib

from tests.conftest import ROOT


def test_config_binds_to_localhost():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text("utf-8"))
    assert config["server"]["address"] == "localhost"


def test_streamlit_reads_the_address_from_the_repo_config():
    out = subprocess.run([sys.executable, "-c", "from streamlit import config; print(config.get_option('server.address'))"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip().splitlines()[-1] == "localhost", out.stdout + out.stderr


def test_readme_explains_sharing_and_what_it_exposes():
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "--server.address 0.0.0.0" in readme
    for exposed in ("training jobs", "delete", "import run zips"):
        assert exposed in readme, exposed
