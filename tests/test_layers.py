"""The import-linter contracts in pyproject.toml hold (DESIGN §2's layers, no import cycle, ...)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_import_linter_contract() -> None:
    exe = Path(sys.executable).parent / "lint-imports"
    assert exe.exists(), "import-linter is part of the dev extra"
    root = Path(__file__).resolve().parents[1]
    r = subprocess.run([str(exe), "--config", str(root / "pyproject.toml")], capture_output=True, text=True, cwd=root,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "kept, 0 broken" in r.stdout
