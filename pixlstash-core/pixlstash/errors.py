"""The small vocabulary of errors a user may see. Each says what is wrong and how to fix it."""

from __future__ import annotations

import re

__all__ = [
    "BadInput",
    "ComfyUnreachable",
    "Conflict",
    "Damaged",
    "EngineNotFound",
    "EngineUnavailable",
    "ModelDamaged",
    "ModelMissing",
    "NotFound",
    "PixlstashError",
    "PluginError",
    "StorageUnavailable",
    "TooLarge",
    "UnsupportedMedia",
    "WorkflowRefused",
    "damaged_address",
    "install_hint",
    "plugin_hint",
]


class PixlstashError(Exception):
    """Base of errors meant for users. ``code`` is stable and machine-readable; ``details`` is JSON-able."""

    code = "error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadInput(PixlstashError):
    """The request or file is malformed."""

    code = "bad_input"


class NotFound(PixlstashError):
    """The thing asked for does not exist (or is outside what the caller may see)."""

    code = "not_found"


class Conflict(PixlstashError):
    """The request cannot be done in the current state (a duplicate, a restore in progress, ...)."""

    code = "conflict"


class Damaged(Conflict):
    """Something the library keeps is not what it should be (a record changed outside PixlStash, a file
    that does not match its hash): the message says which. It is refused, never followed; nothing else is
    affected."""

    code = "damaged"


def damaged_address(kind: str, *parts: object) -> Damaged:
    """For a record whose content hash or suffix cannot name a file of the library: one line, not a crash."""
    named = "".join(str(part) for part in parts)[:120]
    return Damaged(
        f"the library's record of this picture is damaged: it names its {kind} {named!r}, which no file of a "
        "library can be (its database was changed outside PixlStash)"
    )


class TooLarge(PixlstashError):
    """A file, archive or request is over a configured limit."""

    code = "too_large"


class UnsupportedMedia(PixlstashError):
    """A file that is not a picture or video PixlStash can read."""

    code = "unsupported_media"


class PluginError(PixlstashError):
    """A plugin broke the plugin contract."""

    code = "plugin_error"


class EngineNotFound(NotFound):
    """No engine with the given id is installed for that task."""

    code = "engine_not_found"


class ModelMissing(Conflict):
    """An engine's model files are not on this machine; the message says how to get them."""

    code = "model_missing"


class ModelDamaged(ModelMissing):
    """An engine's model files are there but do not load (cut short, damaged); the message says where.
    A kind of missing model: whatever handles a missing one (a job fails whole, not picture by picture)."""

    code = "model_damaged"


class EngineUnavailable(PixlstashError):
    """Raise from an engine whose service cannot be reached right now (a local model server that is down):
    the worker puts the batch back, says so once, and tries again later; no picture fails for it."""

    code = "engine_unavailable"


class StorageUnavailable(PixlstashError):
    """The original store (an object storage service) does not answer, or refuses: the reason in the
    message. What is already stored is untouched; try again when it answers."""

    code = "storage_unavailable"


class ComfyUnreachable(PixlstashError):
    """A linked ComfyUI did not answer, or answered with an error of its own."""

    code = "comfy_unreachable"


class WorkflowRefused(Conflict):
    """A workflow cannot run on that ComfyUI: ``details["problems"]`` lists every missing node class, model
    or input, found before anything was queued."""

    code = "workflow_refused"


# The plugins made with PixlStash (pixlstash-plugins/ in its repository), and the short names that belong
# to one (a scorer named without its plugin): what a hint says to install when a name is not found.
FIRST_PARTY_PLUGINS = ("anime", "clip", "faces", "florence2", "joycaption", "openai-vision", "s3", "wd-tagger")
_SHORT_NAMES = {"aesthetic": "clip", "prompt-match": "clip"}


def install_hint(plugins: str) -> str:
    """How to install the named plugins while they are not on the package registry: from a clone of the
    repository, at the tested versions ("pixlstash-faces" -> its folder)."""
    names = re.findall(r"pixlstash-[a-z0-9-]+", plugins)
    folders = " ".join(f"./pixlstash-plugins/{name.removeprefix('pixlstash-')}" for name in names)
    return f"{plugins}: from a clone of PixlStash, pip install -c constraints.txt {folders}" if names else plugins


def plugin_hint(name: str) -> str:
    """For a name not found (an engine id, a plugin, a scorer's short name): which of PixlStash's plugins
    brings it and how to install it, as a clause to end the message with; "" when it is none of ours."""
    plugin = _SHORT_NAMES.get(name, name.split("/", 1)[0])
    if plugin not in FIRST_PARTY_PLUGINS:
        return ""
    whose = f"pixlstash-{plugin} is" if name == plugin else f"it comes with the pixlstash-{plugin} plugin, which is"
    return f"; {whose} not installed here or not loaded (install {install_hint(f'pixlstash-{plugin}')}, then restart)"
