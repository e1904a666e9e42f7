"""The README stays true: its catalog table is generated, and CI runs its test command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_catalog_table_is_up_to_date() -> None:
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "update_readme.py"), "--check"], timeout=120)
    assert r.returncode == 0, "README's catalog table is stale: run python tools/update_readme.py"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = next(line for line in readme.splitlines() if "pip install -e '.[dev]'" in line)
    assert command.strip() in ci
