"""Content Credentials (C2PA), read: who made a picture and how (the claim generator, its actions, the
digital source type an AI service writes), who signed it, and whether the signature and the hard binding
to the picture's bytes verify. Read with the Content Authenticity Initiative's own library (c2pa-python),
offline: no remote manifest is fetched and no certificate is checked over OCSP (nothing leaves the
machine), so a signer is "trusted" only against the trust list it ships with. The manifest stays in the
original, byte for byte; a manifest that cannot be read is one note, never a failed import."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from ..domain import ContentCredentials

__all__ = ["MAX_CREDENTIALS_FILE", "c2pa_available", "read_credentials"]

# A file larger than this is not searched for a manifest (c2pa reads the whole asset to check its hash).
MAX_CREDENTIALS_FILE = 512 << 20
_MIME = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
         ".tif": "image/tiff", ".tiff": "image/tiff", ".avif": "image/avif", ".heic": "image/heic"}  # fmt: skip
_OFFLINE = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
_state = threading.local()


def c2pa_available() -> bool:
    try:
        import c2pa  # noqa: F401
    except ImportError:
        return False
    return True


def _context():
    """c2pa's context with the offline settings, one per thread (made when first used)."""
    if getattr(_state, "context", None) is None:
        import c2pa

        _state.context = c2pa.Context(settings=c2pa.Settings.from_json(json.dumps(_OFFLINE)))
    return _state.context


def read_credentials(path: Path, suffix: str, notes: list[str]) -> ContentCredentials | None:
    """The picture's active manifest, verified; None when it has none (or c2pa-python is not installed)."""
    mime = _MIME.get(suffix.lower())
    if mime is None or not c2pa_available() or path.stat().st_size > MAX_CREDENTIALS_FILE:
        return None
    import c2pa

    try:
        with open(path, "rb") as stream, c2pa.Reader(mime, stream, None, _context()) as reader:
            store = json.loads(reader.json())
    except c2pa.C2paError.ManifestNotFound:
        return None
    except (c2pa.C2paError, ValueError, OSError) as error:
        # Only a link to a manifest on a server (c2pa says "Remote: ..."; not all its versions type it): never
        # followed.
        if isinstance(error, c2pa.C2paError.RemoteManifest) or str(error).startswith("Remote"):
            notes.append("its Content Credentials are kept on a server: not fetched (nothing leaves this machine)")
            return None
        notes.append(f"its Content Credentials could not be read: {str(error).splitlines()[0][:200]}")
        return ContentCredentials(state="invalid", problems=["unreadable"])
    return _summary(store)


def _summary(store: dict) -> ContentCredentials:
    manifest = store.get("manifests", {}).get(store.get("active_manifest") or "", {})
    generators = [g for g in manifest.get("claim_generator_info") or [] if isinstance(g, dict)]
    generator = " ".join(str(generators[0].get(k, "")) for k in ("name", "version")).strip() if generators else ""
    signature = manifest.get("signature_info") or {}
    actions, source_type = [], None
    for assertion in manifest.get("assertions") or []:
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        for action in (assertion.get("data") or {}).get("actions") or []:
            actions.append(str(action.get("action", ""))[:100])
            kind = str(action.get("digitalSourceType") or "")
            source_type = source_type or (kind.rstrip("/").rsplit("/", 1)[-1][:100] or None)
    problems = [str(s.get("code", ""))[:100] for s in store.get("validation_status") or [] if isinstance(s, dict)]
    state = str(store.get("validation_state") or "").lower()  # c2pa's: invalid, valid (signature), trusted
    return ContentCredentials(
        state=state if state in ("invalid", "valid", "trusted") else "invalid",
        generator=generator[:200] or None,
        signer=str(signature.get("issuer") or signature.get("common_name") or "")[:200] or None,
        signed_at=str(signature.get("time") or "")[:40] or None,
        actions=list(dict.fromkeys(a for a in actions if a))[:50],
        digital_source_type=source_type if source_type and source_type.isalnum() else None,
        problems=[p for p in problems if p][:50],
    )
