"""Things a person saves by name in the data folder: one JSON document per file in a folder.

The designer's templates and the email templates are both kept this way; each subclass says how its
thing becomes a document and back.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from lib.model.appointment import ModelError


def file_name(name: str, what: str = "Template name") -> str:
    """A safe file name: letters, digits, spaces, dots, dashes and underscores."""
    clean = re.sub(r"[^\w .-]+", "", (name or "").strip()).strip(" .")
    if not clean:
        raise ModelError(what, "type a name with at least one letter or digit")
    return clean[:80]


class SavedByName:
    """A folder of named JSON documents; ``what`` names them in messages ("Template", "Email template")."""

    what = "Template"

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def names(self) -> list[str]:
        """The saved names, sorted."""
        if not self.folder.is_dir():
            return []
        return sorted(p.stem for p in self.folder.glob("*.json"))

    def path_for(self, name: str) -> Path:
        """Where the document of this name lives (raises ModelError for a name with nothing usable in it)."""
        return self.folder / f"{file_name(name)}.json"

    def save_document(self, name: str, document: dict) -> Path:
        """Write ``document`` under ``name``; the same name overwrites."""
        path = self.path_for(name)
        self.folder.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    def existing_path(self, name: str) -> Path:
        """The file of a saved name; a ModelError saying so when it is not saved (any more)."""
        path = self.path_for(name)
        if not path.is_file():
            raise ModelError(self.what, f"'{name}' is not saved (any more); pick another one")
        return path

    def delete(self, name: str) -> None:
        """Forget a saved name (nothing happens when it is not saved)."""
        self.path_for(name).unlink(missing_ok=True)
