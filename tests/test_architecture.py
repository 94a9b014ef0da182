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


def _python_files():
    yield from (ROOT / "lib").rglob("*.py")
    yield from (ROOT / "pages").glob("*.py")
    yield from (ROOT / "ui").glob("*.py")
    yield ROOT / "app.py"


def test_no_function_is_over_80_lines():
    import ast

    long = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > 80:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    assert not long, "split these functions: " + "; ".join(long)


def test_no_page_is_over_300_lines():
    long = [f"{p.name} ({n} lines)" for p in (ROOT / "pages").glob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 300]
    assert not long, long


def test_pages_holds_page_scripts_only():
    declared = (ROOT / "app.py").read_text(encoding="utf-8")
    strays = [p.name for p in (ROOT / "pages").glob("*.py") if f"pages/{p.name}" not in declared]
    assert not strays, f"not pages of the navigation (move them to ui/ or lib/): {strays}"
