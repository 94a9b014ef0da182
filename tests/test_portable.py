"""Every module of `lib` imports where POSIX-only modules do not exist (Windows)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Run in a child process: the blocked modules must be gone before anything of lib is imported.
PROBE = r"""
import importlib, json, pkgutil, sys, traceback
for name in ("fcntl", "termios", "pwd", "grp"):
    sys.modules[name] = None  # `import fcntl` now raises ImportError, as on Windows
import lib
broken, seen = {}, []
for info in pkgutil.walk_packages(lib.__path__, "lib."):
    if info.name.rsplit(".", 1)[-1] == "__main__":
        continue
    seen.append(info.name)
    try:
        importlib.import_module(info.name)
    except ImportError:
        broken[info.name] = traceback.format_exc(limit=-3)
print(json.dumps({"seen": seen, "broken": broken}))
"""


def test_every_lib_module_imports_without_posix_only_modules():
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert "lib.screens.embedded_sandbox" in report["seen"] and "lib.bulk.journal" in report["seen"]
    assert report["broken"] == {}, "\n".join(f"{name}:\n{tb}" for name, tb in report["broken"].items())
