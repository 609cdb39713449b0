"""SQL for who may see which picture: the one rule (``visible_sql``, ``mine_sql``) every picture query adds for
the account in force (``pixlstash.pictures.visibility``), and the rows it reads (uploader, privacy, holders)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import msgspec

from ..pictures.visibility import current_audience
from .database import Database, ids_json

__all__ = [
    "PictureAccess",
    "VisibilityStore",
    "collection_visible_sql",
    "mine_sql",
    "project_visible_sql",
    "visible_parts_sql",
    "visible_sql",
]


class PictureAccess(msgspec.Struct, frozen=True):
    owners: list[list]  # [picture id, owner id, private] of every picture not the owner's and shared
    holders: list[list]  # [user id, picture id, added at]
    collections: list[list] = []  # [set or character id, owner id, private] of every one
    roles: list[list] = []  # [set id, user id, role]
    projects: list[list] = []  # [project id, owner id, private] of every one
    project_roles: list[list] = []  # [project id, user id, role]


def visible_sql(alias: str = "p") -> tuple[str, list]:
    """A condition on ``pictures {alias}`` admitting what the account in force may see ("1" for everything).
    No index leads with a column of its later branches, so SQLite never reads it as a union of index
    ranges and a page walks its sort index (``visible_parts_sql`` gives such parts, for counts)."""
    audience = current_audience()
    if audience is None or audience.sees_all:
        return "1", []
    return f"({alias}.private = 0 OR {_theirs(alias)})", [audience.user_id] * 2


def visible_parts_sql(alias: str = "p") -> list[tuple[str, list]] | None:
    """``visible_sql`` as conditions no picture meets two of (None where the account in force sees
    everything): the shared pictures; the private ones it brought in that nobody else holds; the private ones
    someone besides its uploader holds, when the account is one of them. A count over the library reads each
    part as a range of the index ``pictures_access``: the shared with no access check, and of the private only
    the account's own and the held few, never the rest."""
    audience = current_audience()
    if audience is None or audience.sees_all:
        return None
    me = audience.user_id
    return [
        (f"{alias}.private = 0", []),
        (f"{alias}.private = 1 AND {alias}.extra_holders = 0 AND {alias}.owner_id = ?", [me]),
        (f"{alias}.private = 1 AND {alias}.extra_holders > 0 AND ({_theirs(alias)})", [me, me]),
    ]


def _theirs(alias: str) -> str:
    """Whether a picture is among the own of the account in force (two parameters): it brought the picture
    in or holds it (added it to its library)."""
    held = f"EXISTS (SELECT 1 FROM picture_holders h WHERE h.user_id = ? AND h.picture_id = {alias}.id)"
    return f"{alias}.owner_id IS ? OR ({alias}.extra_holders > 0 AND {held})"


def mine_sql(alias: str = "p") -> tuple[str, list]:
    """A condition admitting the pictures among the own of the account in force (nothing when none is)."""
    audience = current_audience()
    if audience is None:
        return "0", []
    theirs = _theirs(alias)
    if audience.is_owner:  # what came in before accounts is the owner's
        return f"({alias}.owner_id IS NULL OR {theirs})", [audience.user_id, audience.user_id]
    return f"({theirs})", [audience.user_id, audience.user_id]


def collection_visible_sql(alias: str = "collections") -> str:
    """A condition on ``collections {alias}`` admitting the sets and characters the account in force may see:
    the library's, its own, and the private ones it has a role in ("1" for everything). The account's id is
    written in (an integer from this process), so the condition fits any statement without parameters."""
    audience = current_audience()
    if audience is None or audience.sees_all:
        return "1"
    me = int(audience.user_id)
    roles = f"EXISTS (SELECT 1 FROM collection_roles r WHERE r.collection_id = {alias}.id AND r.user_id = {me})"
    project = f"EXISTS (SELECT 1 FROM projects pv WHERE pv.id = {alias}.project_id AND {project_visible_sql('pv')})"
    return (
        f"(({alias}.private = 0 OR {alias}.owner_id IS {me} OR {roles}) AND ({alias}.project_id IS NULL OR {project}))"
    )


def project_visible_sql(alias: str = "projects") -> str:
    """A condition on ``projects {alias}`` admitting the projects the account in force may see, as
    ``collection_visible_sql`` does sets (a private project also hides the sets and characters in it)."""
    audience = current_audience()
    if audience is None or audience.sees_all:
        return "1"
    me = int(audience.user_id)
    roles = f"EXISTS (SELECT 1 FROM project_roles r WHERE r.project_id = {alias}.id AND r.user_id = {me})"
    return f"({alias}.private = 0 OR {alias}.owner_id IS {me} OR {roles})"


class VisibilityStore:
    """Each picture's uploader, whether it is private, and the accounts holding it."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add_holders(self, user_id: int, picture_ids: Sequence[int], now: int) -> list[int]:
        """Make the pictures the account's own; the ids that were not yet."""
        return sorted(
            r[0]
            for r in self.db.query(
                "INSERT OR IGNORE INTO picture_holders (user_id, picture_id, added_at) SELECT ?, value, ? "
                "FROM json_each(?) RETURNING picture_id",
                (user_id, now, ids_json(picture_ids)),
            )
        )

    def snapshot(self) -> PictureAccess:
        """Whose each picture is and who may see it, as it stands (kept across a full snapshot restore)."""
        return PictureAccess(
            self.db.query("SELECT id, owner_id, private FROM pictures WHERE owner_id IS NOT NULL OR private = 1"),
            self.db.query("SELECT user_id, picture_id, added_at FROM picture_holders"),
            self.db.query("SELECT id, owner_id, private FROM collections"),
            self.db.query("SELECT collection_id, user_id, role FROM collection_roles"),
            self.db.query("SELECT id, owner_id, private FROM projects"),
            self.db.query("SELECT project_id, user_id, role FROM project_roles"),
        )

    def put_back(self, access: PictureAccess) -> None:
        """Make ``access`` hold again for the pictures, sets and characters there are (inside the caller's
        transaction): a restore brings back metadata, never who may see a picture or a set, so no one's private
        picture or set becomes another's."""
        self.db.execute("UPDATE pictures SET owner_id = NULL, private = 0 WHERE owner_id IS NOT NULL OR private = 1")
        self.db.execute("DELETE FROM picture_holders")
        self.db.execute(
            "UPDATE pictures SET owner_id = a.value ->> 1, private = a.value ->> 2 FROM json_each(?) a "
            "WHERE pictures.id = a.value ->> 0",
            (json.dumps(access.owners),),
        )
        self.db.execute(
            "INSERT INTO picture_holders (user_id, picture_id, added_at) SELECT h.value ->> 0, h.value ->> 1, "
            "h.value ->> 2 FROM json_each(?) h WHERE EXISTS (SELECT 1 FROM pictures p WHERE p.id = h.value ->> 1)",
            (json.dumps(access.holders),),
        )
        # Sets, characters and projects there are today keep who may see them; ones brought back keep the
        # snapshot's.
        for table, key, roles, rows, given in (
            ("collections", "collection_id", "collection_roles", access.collections, access.roles),
            ("projects", "project_id", "project_roles", access.projects, access.project_roles),
        ):
            self.db.execute(
                f"UPDATE {table} SET owner_id = a.value ->> 1, private = a.value ->> 2 FROM json_each(?) a "
                f"WHERE {table}.id = a.value ->> 0",
                (json.dumps(rows),),
            )
            today = json.dumps([row[0] for row in rows])
            self.db.execute(f"DELETE FROM {roles} WHERE {key} IN (SELECT value FROM json_each(?))", (today,))
            self.db.execute(
                f"INSERT INTO {roles} ({key}, user_id, role) SELECT r.value ->> 0, r.value ->> 1, r.value ->> 2 "
                f"FROM json_each(?) r WHERE EXISTS (SELECT 1 FROM {table} t WHERE t.id = r.value ->> 0)",
                (json.dumps(given),),
            )
        self.db.execute(
            "UPDATE pictures SET extra_holders = held FROM (SELECT p.id, (SELECT count(*) FROM picture_holders h "
            "WHERE h.picture_id = p.id AND h.user_id IS NOT p.owner_id) AS held FROM pictures p) c "
            "WHERE pictures.id = c.id AND pictures.extra_holders != c.held"
        )

    def hand_over(self, user_id: int) -> int:
        """An account removed: its pictures become the owner's (private ones stay private, now the owner's),
        its own ratings and favourites go; returns how many pictures it had brought in."""
        self.db.execute("DELETE FROM picture_holders WHERE user_id = ?", (user_id,))
        self.db.execute("DELETE FROM picture_marks WHERE user_id = ?", (user_id,))  # its own ratings go with it
        self.db.execute("UPDATE collections SET owner_id = NULL WHERE owner_id = ?", (user_id,))  # now the owner's
        self.db.execute("UPDATE projects SET owner_id = NULL WHERE owner_id = ?", (user_id,))
        return len(self.db.query("UPDATE pictures SET owner_id = NULL WHERE owner_id = ? RETURNING id", (user_id,)))

    def set_private(self, picture_ids: Sequence[int], private: bool) -> list[int]:
        """Make the pictures private to their holders, or shared with the library; the ids changed."""
        rows = self.db.query(
            "UPDATE pictures SET private = ? WHERE id IN (SELECT value FROM json_each(?)) AND private != ? "
            "RETURNING id",
            (int(private), ids_json(picture_ids), int(private)),
        )
        return sorted(r[0] for r in rows)

    def private_among(self, picture_ids: Sequence[int]) -> list[int]:
        """Those of the pictures that are private, sorted."""
        return [
            r[0]
            for r in self.db.query(
                "SELECT id FROM pictures WHERE id IN (SELECT value FROM json_each(?)) AND private = 1 ORDER BY id",
                (ids_json(picture_ids),),
            )
        ]

    def uploaded_bytes(self, user_id: int) -> int:
        """The originals the account brought in, the scrapheap's included (they take the disk until purged)."""
        return int(self.db.scalar("SELECT coalesce(sum(file_size), 0) FROM pictures WHERE owner_id = ?", (user_id,)))

    def owners(self, picture_ids: Sequence[int]) -> dict[int, int | None]:
        """Who brought each picture in (None: the library's owner, before accounts)."""
        return dict(
            self.db.query(
                "SELECT id, owner_id FROM pictures WHERE id IN (SELECT value FROM json_each(?))",
                (ids_json(picture_ids),),
            )
        )
