"""Who may change a curated set's pictures (see ``curation``): its curators, the owner and admins, and work
for no one in particular; anyone else submits."""

from __future__ import annotations

from ..auth import Forbidden
from ..db.curation_rows import CurationStore
from ..db.database import Database
from ..domain import Collection
from ..pictures.visibility import current_audience

__all__ = ["curator_here", "may_change_members"]


def curator_here(store: CurationStore, collection_id: int) -> bool:
    """Whether the account in force curates the set (the owner, admins and work for no one always do)."""
    audience = current_audience()
    return audience is None or audience.sees_all or store.role_of(collection_id, audience.user_id) == "curator"


def may_change_members(db: Database, collection: Collection) -> None:
    """``Forbidden`` when the account in force may not put pictures in the set or take them out directly."""
    store = CurationStore(db)
    if store.curated(collection.id) and not curator_here(store, collection.id):
        raise Forbidden(f"{collection.name} is curated: submit pictures to it, and its curators decide")
