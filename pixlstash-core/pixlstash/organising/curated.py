"""Who may change a set, character or project: anyone who may write, for one shared with the library and not curated;
for a curated one (see ``curation``) its curators, the owner and admins, and anyone else submits; for a
private one, set or project (seen only by whoever made it, admins and the accounts with a role in it),
whoever made it, admins and its curators manage it, its contributors add pictures too, and its viewers look."""

from __future__ import annotations

from ..auth import Forbidden
from ..db.curation_rows import CurationStore
from ..db.database import Database
from ..domain import Collection, Project
from ..pictures.visibility import current_audience

__all__ = ["curator_here", "may_add", "may_change_members", "may_manage", "may_set_private", "owns"]


def curator_here(store: CurationStore, collection_id: int) -> bool:
    """Whether the account in force curates the set (the owner, admins and work for no one always do)."""
    audience = current_audience()
    return audience is None or audience.sees_all or store.role_of(collection_id, audience.user_id) == "curator"


def owns(thing: Collection | Project) -> bool:
    """Whether the account in force made the set or project (or is the owner, an admin, or work for no one)."""
    audience = current_audience()
    return audience is None or audience.sees_all or thing.owner_id == audience.user_id


def may_change_members(db: Database, collection: Collection) -> None:
    """``Forbidden`` when the account in force may not put pictures in the set or take them out directly."""
    store = CurationStore(db)
    if store.curated(collection.id) and not curator_here(store, collection.id):
        raise Forbidden(f"{collection.name} is curated: submit pictures to it, and its curators decide")
    may_add(collection)


def may_add(thing: Collection | Project) -> None:
    """``Forbidden`` when a private set or project only lets the account in force look."""
    if thing.private and not owns(thing) and thing.role not in ("contributor", "curator"):
        raise Forbidden(f"{thing.name} is private: you may look at it, not change it")


def may_manage(thing: Collection | Project) -> None:
    """``Forbidden`` when the account in force may not rename, describe, move, delete or give roles in it."""
    if thing.private and not owns(thing) and thing.role != "curator":
        raise Forbidden(f"{thing.name} is private: only whoever made it, its curators and admins change it")


def may_set_private(thing: Collection | Project) -> None:
    """``Forbidden`` unless the account in force made the set or project, or is an admin."""
    if not owns(thing):
        raise Forbidden(f"only whoever made {thing.name}, or an admin, makes it private or shares it")
