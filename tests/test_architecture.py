"""The import rules of .importlinter hold (layers, no Streamlit in lib, the sandbox apart)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    command = [str(lint)] if lint.exists() else [sys.executable, "-m", "importlinter.cli"]
    result = subprocess.run(command + ["--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_lib_has_at_most_three_plain_modules():
    plain = sorted(p.name for p in (ROOT / "lib").glob("*.py") if not p.name.startswith("__"))
    assert len(plain) <= 3, plain
