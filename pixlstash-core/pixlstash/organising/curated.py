"""Who may change a set or character: anyone who may write, for one shared with the library and not curated;
for a curated one (see ``curation``) its curators, the owner and admins, and anyone else submits; for a
private one (seen only by whoever made it, admins and the accounts with a role in it) whoever made it, admins
and its curators manage it, its contributors add pictures too, and its viewers look."""

from __future__ import annotations

from ..auth import Forbidden
from ..db.curation_rows import CurationStore
from ..db.database import Database
from ..domain import Collection
from ..pictures.visibility import current_audience

__all__ = ["curator_here", "may_change_members", "may_manage", "may_set_private", "owns"]


def curator_here(store: CurationStore, collection_id: int) -> bool:
    """Whether the account in force curates the set (the owner, admins and work for no one always do)."""
    audience = current_audience()
    return audience is None or audience.sees_all or store.role_of(collection_id, audience.user_id) == "curator"


def owns(collection: Collection) -> bool:
    """Whether the account in force made the set (or is the owner, an admin, or work for no one)."""
    audience = current_audience()
    return audience is None or audience.sees_all or collection.owner_id == audience.user_id


def may_change_members(db: Database, collection: Collection) -> None:
    """``Forbidden`` when the account in force may not put pictures in the set or take them out directly."""
    store = CurationStore(db)
    if store.curated(collection.id) and not curator_here(store, collection.id):
        raise Forbidden(f"{collection.name} is curated: submit pictures to it, and its curators decide")
    if collection.private and not owns(collection) and collection.role not in ("contributor", "curator"):
        raise Forbidden(f"{collection.name} is private: you may look at it, not change it")


def may_manage(collection: Collection) -> None:
    """``Forbidden`` when the account in force may not rename, describe, move or delete the set."""
    if collection.private and not owns(collection) and collection.role != "curator":
        raise Forbidden(f"{collection.name} is private: only whoever made it, its curators and admins change it")


def may_set_private(collection: Collection) -> None:
    """``Forbidden`` unless the account in force made the set or is an admin."""
    if not owns(collection):
        raise Forbidden(f"only whoever made {collection.name}, or an admin, makes it private or shares it")
