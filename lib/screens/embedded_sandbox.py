"""The app's own sandbox: found running for its data folder, or started as a child process.

A first run of the app needs no configuration and no sign-in: the sandbox lives under
``studio_home()/sandbox``, approves device codes by itself, and stops with the process that started
it. A sandbox already answering for that folder (another app window, a ``python -m lib sandbox``
in a terminal) is reused instead of starting a second one.
"""

from __future__ import annotations

import atexit
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests
from filelock import FileLock

PROBE_TIMEOUT = 3.0
_lock = threading.Lock()


class SandboxUnavailable(RuntimeError):
    """The embedded sandbox could not be found or started; the message says what to do."""


@dataclass
class EmbeddedSandbox:
    """Where the sandbox answers and the two connection profiles it wrote."""

    url: str
    ca_path: Path
    profile_path: Path
    app_profile_path: Path
    data_dir: Path
    started_here: bool = False
    process: object | None = field(default=None, repr=False)

    def stats(self) -> dict:
        """The sandbox's counters (``/_sandbox/stats``)."""
        return _get_json(self.url + "/_sandbox/stats", self.ca_path)

    def meetings(self) -> list[dict]:
        """Every stored meeting (the ``value`` of ``/_sandbox/meetings``)."""
        return _get_json(self.url + "/_sandbox/meetings", self.ca_path)["value"]

    def alive(self) -> bool:
        try:
            self.stats()
            return True
        except (requests.RequestException, ValueError, OSError):
            return False

    def stop(self) -> None:
        """Stop the sandbox if this process started it; a reused one is left running."""
        if self.process is not None:
            try:
                self.process.stop()
            finally:
                self.process = None


def default_data_dir() -> Path:
    from lib.datafolder import studio_home
    return studio_home() / "sandbox"


def ensure_sandbox(data_dir: str | Path | None = None) -> EmbeddedSandbox:
    """The sandbox for ``data_dir`` (default ``studio_home()/sandbox``), reused or started."""
    folder = Path(data_dir) if data_dir else default_data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with _lock, _folder_lock(folder):
        found = find_running(folder)
        if found is not None:
            return found
        return _start(folder)


def find_running(folder: Path) -> EmbeddedSandbox | None:
    """The sandbox answering for ``folder``, judged by its ``connection.json`` and a stats probe."""
    profile_path = folder / "connection.json"
    try:
        profile = json.loads(profile_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    base = profile.get("graph_base_url") or ""
    ca = profile.get("ca_bundle") or str(folder / "ca.pem")
    parts = urlsplit(base)
    if parts.scheme != "https" or not parts.netloc or not Path(ca).is_file():
        return None
    found = EmbeddedSandbox(url=f"{parts.scheme}://{parts.netloc}", ca_path=Path(ca), profile_path=profile_path,
                            app_profile_path=folder / "connection-app.json", data_dir=folder)
    return found if found.alive() else None


def _start(folder: Path) -> EmbeddedSandbox:
    from lib.sandbox.process import start_sandbox_process

    try:
        process = start_sandbox_process(folder, port=0, auto_approve=True)
    except Exception as exc:  # the app shows this in words; the sandbox's own log has the details
        raise SandboxUnavailable(
            f"The built-in sandbox did not start ({type(exc).__name__}: {exc}). "
            f"Check that {folder} is writable, or start it yourself with "
            f"`python -m lib sandbox --data {folder} --auto-approve`, then reload the page."
        ) from exc
    atexit.register(process.stop)
    return EmbeddedSandbox(url=process.url.rstrip("/"), ca_path=Path(process.ca_path),
                           profile_path=Path(process.profile_path), app_profile_path=Path(process.app_profile_path),
                           data_dir=folder, started_here=True, process=process)


def _get_json(url: str, ca_path: Path) -> dict:
    with requests.Session() as http:
        http.trust_env = False  # a REQUESTS_CA_BUNDLE or proxy from the environment must not apply to loopback
        response = http.get(url, verify=str(ca_path), timeout=PROBE_TIMEOUT)
    response.raise_for_status()
    return response.json()


def _folder_lock(folder: Path) -> FileLock:
    """A lock on the data folder across processes (any OS), so two app processes never start two sandboxes."""
    return FileLock(str(folder / ".embedded.lock"))
