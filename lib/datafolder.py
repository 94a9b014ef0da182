"""Where Appointment Studio keeps its files: the journal, token caches, the embedded sandbox."""

from __future__ import annotations

import os
from pathlib import Path

APP_FOLDER = "appointment-studio"


def studio_home() -> Path:
    """The data folder: ``$APPOINTMENT_STUDIO_HOME``, else ``${XDG_DATA_HOME:-~/.local/share}/appointment-studio``."""
    explicit = os.environ.get("APPOINTMENT_STUDIO_HOME")
    if explicit:
        home = Path(explicit).expanduser()
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        home = Path(base).expanduser() / APP_FOLDER
    home.mkdir(parents=True, exist_ok=True, mode=0o700)  # a new folder is its owner's only (journal, tokens)
    return home


def token_cache_dir() -> Path:
    """The folder holding one MSAL token cache per connection profile, readable by its owner only."""
    folder = studio_home() / "tokens"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        os.chmod(folder, 0o700)
    except OSError:  # a file system without modes (some mounts): the files themselves stay 0600
        pass
    return folder
