"""SQL for projects, characters and picture sets, their members, breadcrumbs and set operations."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..domain import Breadcrumb, Collection, CollectionKind, Project, SetOp
from ..errors import BadInput, Conflict, NotFound
from ..pictures.visibility import current_audience
from .database import Database
from .names import clean_name, taken_collection_name, taken_project_name
from .schema_recent import NEXT_COLLECTION_ID, NEXT_PROJECT_ID
from .visibility import collection_visible_sql, project_visible_sql, visible_sql

__all__ = ["CollectionStore", "set_operation_sql"]

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_COLLECTION_COLUMNS = "id, kind, name, project_id, description, color, member_count, created_at, private, owner_id"


def _collection(row: Sequence) -> Collection:
    *plain, private, owner_id, curated, role = row
    return Collection(*plain, curated=bool(curated), role=role, private=bool(private), owner_id=owner_id)


def _project(row: Sequence) -> Project:
    *plain, private, owner_id, role = row
    return Project(*plain, private=bool(private), owner_id=owner_id, role=role)


def _maker() -> int | None:
    """The account making a set or project (None: the owner, or work for no one)."""
    audience = current_audience()
    return None if audience is None or audience.is_owner else audience.user_id


def _check_name(name: str) -> str:
    return clean_name(name, "a name")


def _check_color(color: str | None) -> str | None:
    if color is not None and not _COLOR.match(color):
        raise BadInput("a colour is written #rrggbb")
    return color


def set_operation_sql(collection_ids: Sequence[int], op: SetOp) -> tuple[str, list[int]]:
    """A subquery yielding the picture ids of a set operation over collections.

    union: in any; overlap: in all; difference: in the first and none of the others; unique: in exactly one.
    A private set the account in force may not see counts as empty, as one that never was.
    """
    sql, ids = _set_operation_sql(collection_ids, op)
    visible = collection_visible_sql("c")
    if visible != "1":
        seen = f"FROM collection_members WHERE collection_id IN (SELECT c.id FROM collections c WHERE {visible}) AND"
        sql = sql.replace("FROM collection_members WHERE", seen)
    return sql, ids


def _set_operation_sql(collection_ids: Sequence[int], op: SetOp) -> tuple[str, list[int]]:
    if not collection_ids:
        raise BadInput("a set operation needs at least one set or character")
    ids = list(collection_ids)
    marks = ",".join("?" * len(ids))
    if op == "union" or len(ids) == 1:
        return f"SELECT picture_id FROM collection_members WHERE collection_id IN ({marks})", ids
    if op == "overlap":
        return (
            f"SELECT picture_id FROM collection_members WHERE collection_id IN ({marks}) "
            f"GROUP BY picture_id HAVING count(*) = {len(set(ids))}",
            ids,
        )
    if op == "difference":
        others = ",".join("?" * (len(ids) - 1))
        return (
            "SELECT picture_id FROM collection_members WHERE collection_id = ? AND picture_id NOT IN "
            f"(SELECT picture_id FROM collection_members WHERE collection_id IN ({others}))",
            ids,
        )
    if op == "unique":
        return (
            f"SELECT picture_id FROM collection_members WHERE collection_id IN ({marks}) "
            "GROUP BY picture_id HAVING count(*) = 1",
            ids,
        )
    raise BadInput(f"unknown set operation {op!r} (union, overlap, difference or unique)")


class CollectionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- projects -------------------------------------------------------------------------------

    def create_project(self, name: str, description: str, color: str | None, now: int) -> int:
        self._refuse_taken_project(name)
        return self.db.query(
            f"INSERT INTO projects(id, name, description, color, created_at, owner_id) "
            f"VALUES ({NEXT_PROJECT_ID}, ?, ?, coalesce(?, '#6b7280'), ?, ?) RETURNING id",
            (_check_name(name), description, _check_color(color), now, _maker()),
        )[0][0]

    def _refuse_taken_project(self, name: str, exclude: int | None = None) -> None:
        """Project names are unique, in any case, among the projects the account in force sees (as sets'
        names are)."""
        taken = taken_project_name(self.db, name, exclude)
        if taken is not None:
            raise Conflict(f"a project named {name.strip()!r} already exists", id=taken)

    def _counted(self, members: str, key: str, counted: str, live_only: bool) -> tuple[str, str, list]:
        """(a ``WITH`` clause, the count, parameters): ``counted`` as the account in force may see it. For one
        who does not see everything, the private pictures it may not see are taken off (work in proportion to
        those pictures): a count never tells of a picture one may not see."""
        visible, params = visible_sql("p")
        if visible == "1":
            return "", counted, []
        live = " AND p.deleted_at IS NULL" if live_only else ""
        with_sql = (
            f"WITH hidden AS (SELECT m.{key} AS owner, count(*) AS n FROM pictures p JOIN {members} m ON "
            f"m.picture_id = p.id WHERE p.private = 1{live} AND NOT {visible} GROUP BY m.{key}) "
        )
        return with_sql, f"{counted} - coalesce((SELECT n FROM hidden WHERE hidden.owner = id), 0)", params

    def _project_rows(self, conditions: Sequence[str], params: Sequence, order: str = "") -> list:
        """The projects meeting ``conditions`` that the account in force may see, as ``_collection_rows``."""
        members = "(SELECT count(*) FROM project_members WHERE project_id = projects.id)"
        with_sql, count, hidden_params = self._counted("project_members", "project_id", members, False)
        audience = current_audience()
        role = "(SELECT r.role FROM project_roles r WHERE r.project_id = projects.id AND r.user_id = ?)"
        where = " AND ".join([*conditions, project_visible_sql("projects")])
        return self.db.query(
            f"{with_sql}SELECT id, name, description, color, created_at, {count}, private, owner_id, {role} "
            f"FROM projects WHERE {where} {order}",
            (*hidden_params, audience.user_id if audience else None, *params),
        )

    def project(self, project_id: int) -> Project:
        rows = self._project_rows(["id = ?"], (project_id,))
        row = rows[0] if rows else None
        if row is None:
            raise NotFound(f"project {project_id} does not exist")
        return _project(row)

    def projects(self) -> list[Project]:
        return [_project(row) for row in self._project_rows([], (), "ORDER BY name, id")]

    def set_project_private(self, project_id: int, private: bool) -> None:
        self.db.execute("UPDATE projects SET private = ? WHERE id = ?", (int(private), project_id))

    def _collection_rows(self, conditions: Sequence[str], params: Sequence, order: str = "") -> list:
        """The sets and characters meeting ``conditions`` that the account in force may see (a private one it
        may not is as absent as one that never was), each counting the pictures it may see."""
        with_sql, count, hidden_params = self._counted("collection_members", "collection_id", "member_count", True)
        columns = _COLLECTION_COLUMNS.replace("member_count", count)
        audience = current_audience()
        curation = (
            ", EXISTS (SELECT 1 FROM collection_roles r WHERE r.collection_id = collections.id AND r.role = "
            "'curator'), (SELECT r.role FROM collection_roles r WHERE r.collection_id = collections.id AND "
            "r.user_id = ?)"
        )
        where = " AND ".join([*conditions, collection_visible_sql("collections")])
        return self.db.query(
            f"{with_sql}SELECT {columns}{curation} FROM collections WHERE {where} {order}",
            (*hidden_params, audience.user_id if audience else None, *params),
        )

    def update_project(
        self, project_id: int, *, name: str | None = None, description: str | None = None, color: str | None = None
    ) -> None:
        self.project(project_id)
        if name is not None:
            self._refuse_taken_project(name, project_id)
        self.db.execute(
            "UPDATE projects SET name = coalesce(?, name), description = coalesce(?, description), "
            "color = coalesce(?, color) WHERE id = ?",
            (None if name is None else _check_name(name), description, _check_color(color), project_id),
        )

    def delete_project(self, project_id: int) -> None:
        """Delete a project; its characters and sets stay, outside any project. Pictures are untouched."""
        self.project(project_id)
        self.db.execute("DELETE FROM project_members WHERE project_id = ?", (project_id,))
        self.db.execute("UPDATE collections SET project_id = NULL WHERE project_id = ?", (project_id,))
        self.db.execute("DELETE FROM projects WHERE id = ?", (project_id,))

    def add_to_project(self, project_id: int, picture_ids: Sequence[int]) -> None:
        self.project(project_id)
        self.db.connection.executemany(
            "INSERT INTO project_members(project_id, picture_id, direct) VALUES (?, ?, 1) "
            "ON CONFLICT DO UPDATE SET direct = 1",
            [(project_id, pid) for pid in picture_ids],
        )

    def remove_from_project(self, project_id: int, picture_ids: Sequence[int]) -> None:
        """Remove direct membership; a picture still in one of the project's collections stays a member."""
        for pid in picture_ids:
            self.db.execute(
                "UPDATE project_members SET direct = 0 WHERE project_id = ? AND picture_id = ?", (project_id, pid)
            )
            self.db.execute(
                "DELETE FROM project_members WHERE project_id = ? AND picture_id = ? AND NOT EXISTS ("
                "SELECT 1 FROM collection_members cm JOIN collections c ON c.id = cm.collection_id "
                "WHERE cm.picture_id = ? AND c.project_id = ?)",
                (project_id, pid, pid, project_id),
            )

    # -- characters and sets --------------------------------------------------------------------

    def create_collection(
        self, kind: CollectionKind, name: str, project_id: int | None, description: str, color: str | None, now: int
    ) -> int:
        if kind not in ("character", "set"):
            raise BadInput("kind is 'character' or 'set'")
        if project_id is not None:
            self.project(project_id)
        self._refuse_taken(kind, project_id, name)
        return self.db.query(
            f"INSERT INTO collections(id, kind, name, project_id, description, color, created_at, owner_id) "
            f"VALUES ({NEXT_COLLECTION_ID}, ?, ?, ?, ?, coalesce(?, '#6b7280'), ?, ?) RETURNING id",
            (kind, _check_name(name), project_id, description, _check_color(color), now, _maker()),
        )[0][0]

    def collection(self, collection_id: int, kind: CollectionKind | None = None) -> Collection:
        rows = self._collection_rows(["id = ?"], (collection_id,))
        row = rows[0] if rows else None
        if row is None or (kind is not None and row[1] != kind):
            raise NotFound(f"{kind or 'collection'} {collection_id} does not exist")
        return _collection(row)

    def collections(self, kind: CollectionKind | None = None, project_id: int | None = None) -> list[Collection]:
        conditions, params = [], []
        if kind:
            conditions.append("kind = ?")
            params.append(kind)
        if project_id is not None:
            conditions.append("project_id = ?")
            params.append(project_id)
        return [_collection(row) for row in self._collection_rows(conditions, params, "ORDER BY kind, name, id")]

    def update_collection(
        self, collection_id: int, *, name: str | None = None, description: str | None = None, color: str | None = None
    ) -> None:
        collection = self.collection(collection_id)
        if name is not None:
            self._refuse_taken(collection.kind, collection.project_id, name, collection_id)
        self.db.execute(
            "UPDATE collections SET name = coalesce(?, name), description = coalesce(?, description), "
            "color = coalesce(?, color) WHERE id = ?",
            (None if name is None else _check_name(name), description, _check_color(color), collection_id),
        )

    def set_private(self, collection_id: int, private: bool) -> None:
        self.db.execute("UPDATE collections SET private = ? WHERE id = ?", (int(private), collection_id))

    def move_collection(self, collection_id: int, project_id: int | None) -> None:
        """Move to another project (or none). The ``collections_moved`` trigger re-assigns pictures,
        reference-aware: a picture that still belongs to the old project some other way stays there."""
        collection = self.collection(collection_id)
        if project_id is not None:
            self.project(project_id)
        self._refuse_taken(collection.kind, project_id, collection.name, collection_id)
        self.db.execute("UPDATE collections SET project_id = ? WHERE id = ?", (project_id, collection_id))

    def _refuse_taken(self, kind: str, project_id: int | None, name: str, exclude: int | None = None) -> None:
        """Names are unique per kind and project, in any case, among the sets the account in force sees."""
        taken = taken_collection_name(self.db, kind, project_id, name, exclude)
        if taken is not None:
            where = "in that project" if project_id is not None else "outside projects"
            raise Conflict(f"a {kind} named {name.strip()!r} already exists {where}", id=taken)

    def character_names(self, *, shared_only: bool = False) -> dict[int, str]:
        """id -> name of the characters the account in force sees (``shared_only``: none kept private),
        without counting their pictures."""
        private = " AND private = 0" if shared_only else ""
        return dict(
            self.db.query(
                f"SELECT id, name FROM collections WHERE kind = 'character'{private} "
                f"AND {collection_visible_sql('collections')}"
            )
        )

    def character_named(self, name: str) -> int | None:
        """The character named ``name`` in any case (Unicode's, not only ASCII's) that the account in force
        sees, or None: how a tagger's character tag or a person photo software named finds its character."""
        wanted = name.strip().casefold()
        found = [(named, cid) for cid, named in self.character_names().items() if named.casefold() == wanted]
        return min(found)[1] if found else None

    def delete_collection(self, collection_id: int) -> None:
        """Delete a set or character. Its pictures are never deleted."""
        self.collection(collection_id)
        self.db.execute("DELETE FROM collection_members WHERE collection_id = ?", (collection_id,))
        self.db.execute("DELETE FROM collections WHERE id = ?", (collection_id,))

    def add_members(self, collection_id: int, picture_ids: Sequence[int], now: int) -> None:
        self.collection(collection_id)
        self.db.connection.executemany(
            "INSERT INTO collection_members(collection_id, picture_id, added_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [(collection_id, pid, now) for pid in picture_ids],
        )

    def remove_members(self, collection_id: int, picture_ids: Sequence[int]) -> None:
        self.collection(collection_id)
        self.db.connection.executemany(
            "DELETE FROM collection_members WHERE collection_id = ? AND picture_id = ?",
            [(collection_id, pid) for pid in picture_ids],
        )

    def set_operation_ids(self, collection_ids: Sequence[int], op: SetOp) -> list[int]:
        sql, params = set_operation_sql(collection_ids, op)
        visible, visible_params = visible_sql("p")
        rows = self.db.query(
            f"SELECT id FROM pictures p WHERE id IN ({sql}) AND deleted_at IS NULL AND {visible} ORDER BY id",
            (*params, *visible_params),
        )
        return [row[0] for row in rows]

    def breadcrumbs(self, *, project_id: int | None = None, collection_id: int | None = None) -> list[Breadcrumb]:
        """library > project > character or set, for whatever the view shows."""
        crumbs = [Breadcrumb("library", None, "Library")]
        collection = self.collection(collection_id) if collection_id is not None else None
        if collection is not None and collection.project_id is not None:
            project_id = collection.project_id
        if project_id is not None:
            crumbs.append(Breadcrumb("project", project_id, self.project(project_id).name))
        if collection is not None:
            crumbs.append(Breadcrumb(collection.kind, collection.id, collection.name))
        return crumbs
