"""The modules that moved when the core was laid out by concept (one package per concept, see
docs/architecture.md), still importable under their old names for a while: a plugin written for an older
PixlStash keeps working, with a DeprecationWarning that names the new place. New code imports the new names
(or what ``pixlstash`` itself exports)."""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import warnings
from types import ModuleType

__all__ = ["MOVED", "new_name"]

# old name -> new name, below ``pixlstash.``; a moved package moves its modules with it
MOVED = {
    "domain_edits": "domain.looks",
    "domain_enrichment": "domain.enrichment",
    "edit_geometry": "domain.look_geometry",
    "geometry": "domain.boxes",
    "clock": "system.clock",
    "events": "system.events",
    "memory": "system.memory",
    "paths": "system.paths",
    "scratch": "system.scratch",
    "updates": "system.updates",
    "outside_changes": "system.outside_changes",
    "doctor": "system.doctor",
    "edits": "history.undo",
    "undo_journal": "history.journal",
    "edit_labels": "history.labels",
    "prediction_steps": "history.prediction_steps",
    "container_steps": "history.container_steps",
    "picture_edits": "pictures.editor",
    "picture_change": "pictures.change",
    "picture_looks": "pictures.looks",
    "scrapheap": "pictures.scrapheap",
    "edit_render": "media.look_pixels",
    "thumbnails": "media.thumbnails",
    "originals": "files.originals",
    "staged_originals": "files.staged",
    "store_choice": "files.store_choice",
    "store_moves": "files.store_moves",
    "picture_files": "files.picture_files",
    "previews": "files.previews",
    "sidecars": "files.sidecars",
    "rendition_cache": "files.renditions",
    "organise": "organising.organiser",
    "stacks": "organising.stacks",
    "people": "people.service",
    "face_clusters": "people.clusters",
    "face_likeness": "people.face_likeness",
    "likeness": "search.likeness",
    "index.search": "search.service",
    "folders": "importing.folders",
    "caption_prompts": "engines.caption_prompts",
    "tag_lists": "engines.tag_lists",
    "engines.shared": "engines.shared_weights",
    "storage": "db",
    "storage.db": "db.database",
    "storage.backup": "db.copies",
    "storage.edit_state": "db.history_state",
    "cli.edit_cmds": "cli.editor_cmds",
}


def new_name(fullname: str) -> str | None:
    """The new dotted name of an old module name, or None when it did not move."""
    if not fullname.startswith("pixlstash."):
        return None
    parts = fullname.removeprefix("pixlstash.").split(".")
    for n in range(len(parts), 0, -1):
        if (head := ".".join(parts[:n])) in MOVED:
            return "pixlstash." + ".".join([MOVED[head], *parts[n:]])
    return None


class _OldNames:
    """A meta path finder and loader by their protocol: ``importlib.abc`` would cost every start 10 ms."""

    def find_spec(self, fullname: str, path: object, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if new_name(fullname) is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        new = new_name(spec.name)
        warnings.warn(f"{spec.name} moved to {new}; import it from there", DeprecationWarning, stacklevel=2)
        return importlib.import_module(new)  # the same module object under both names

    def exec_module(self, module: ModuleType) -> None:
        pass  # already run under its new name


def install() -> None:
    if not any(isinstance(finder, _OldNames) for finder in sys.meta_path):
        sys.meta_path.append(_OldNames())  # last: a name that exists is always found first
