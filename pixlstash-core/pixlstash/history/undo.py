"""A person's edits as steps that can be undone and redone.

The edits people make (in the browser, through the API or on the command line) go through here: ratings and flags,
tags, captions, engines' predicted tags accepted or rejected, looks, membership of sets, characters and projects,
the scrapheap, the names and details of sets, characters and projects, sets, characters and projects made and
deleted (a deleted one comes back under its own id, with its members and named faces, so the steps after it find
it), the tag vocabulary (renamed, aliased, merged, deleted), stacks, and faces named, taken out or rejected. Each
reads what it is about to change, makes the change through the library's own methods (so events, sidecars and counts
follow as always) and records one step in the history log (its own file, ``history.db``). Edits made as one action
(a picture's form saving a rating and a tag, a character merged into another) are one step: ``with
edits.step("..."):``. An edit and its step are one transaction (the step goes through the library's outbox, see
journal.py): a step whose edit failed half way is rolled back whole, and ``kill -9`` can leave neither an edit
without its step nor an undo that was not recorded. Work the library does by itself (imports, engines, folder scans)
is not recorded: undo reverts what the person did.

**A snapshot restore clears the history**, full or selective: the steps describe pictures as they were before the
restore, and undoing one afterwards would quietly overwrite what was restored. The restore is its own safety net (it
takes a snapshot first), so nothing is lost.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from ..db.database import Database
from ..db.history_log import LoggedStep
from ..db.history_state import HistoryState
from ..db.pictures import PictureStore
from ..db.stacks import StackStore
from ..db.tags import TagStore
from ..domain import Collection, CollectionKind, EditChange, History, HistoryStep, Project, SetOp
from ..index.near_duplicates import NearDuplicateIndex
from ..organising.organiser import Organiser
from ..pictures.editor import PictureEditor
from ..pictures.looks import PictureLooks
from ..pictures.scrapheap import Scrapheap
from ..system.clock import now_ms
from ..system.events import Event, EventBus
from .container_steps import ContainerSteps
from .journal import UndoJournal
from .labels import fields_label, look_label, pictures_phrase, review_label
from .prediction_steps import PredictionSteps
from .tag_steps import TagSteps

__all__ = ["Edits"]

_STACKED = {"fields": ["stack"]}
_Method = TypeVar("_Method", bound=Callable[..., Any])


def _atomic(method: _Method) -> _Method:
    """The edit and the step it records commit together (see journal.py)."""

    @functools.wraps(method)
    def in_one_transaction(self: Edits, *args: Any, **kwargs: Any) -> Any:
        with self._transaction():
            return method(self, *args, **kwargs)

    return in_one_transaction  # type: ignore[return-value]


class Edits:
    def __init__(
        self,
        db: Database,
        events: EventBus,
        journal: UndoJournal,
        pictures: PictureStore,
        tags: TagStore,
        editor: PictureEditor,
        scrapheap: Scrapheap,
        organiser: Organiser,
        clock: Callable[[], int] = now_ms,
        stack_store: StackStore | None = None,
        near_duplicates: NearDuplicateIndex | None = None,
        looks: PictureLooks | None = None,
    ) -> None:
        self.db, self.events, self.journal, self.clock = db, events, journal, clock
        self.log = journal.history
        self.stack_store, self.near_duplicates, self.looks = stack_store, near_duplicates, looks
        self.pictures, self.tags, self.editor = pictures, tags, editor
        self.scrapheap, self.organiser = scrapheap, organiser
        self.state = HistoryState(db)
        self._predictions = predictions = PredictionSteps(db, events, tags, editor, self.state)
        self._containers = containers = ContainerSteps(db, events, organiser, self.state)
        self._tag_steps = tag_steps = TagSteps(db, events, tags, self.state)
        # (undo, redo) of the step kinds kept beside the change they record; the rest are methods below.
        self.kinds: dict[str, tuple[Callable[[dict], None], Callable[[dict], None]]] = {
            "predictions": (predictions.undo, predictions.redo),
            "created": (containers.remove, containers.put_back),
            "deleted": (containers.put_back, containers.remove),
            "details": (containers.undo_details, containers.redo_details),
            "moved": (containers.undo_moved, containers.redo_moved),
            "tag_renamed": (tag_steps.undo_renamed, tag_steps.redo_renamed),
            "tag_alias": (tag_steps.undo_alias, tag_steps.redo_alias),
            "tag_unaliased": (tag_steps.redo_alias, tag_steps.undo_alias),
            "tag_merged": (tag_steps.undo_merged, tag_steps.redo_merged),
            "faces": (containers.undo_faces, containers.redo_faces),
            "face_rejected": (containers.undo_rejected, containers.redo_rejected),
        }
        self._lock = threading.RLock()  # one undo or redo at a time
        self._local = threading.local()  # the step this thread is gathering

    def on_event(self, event: Event) -> None:
        """Every event of the library (it subscribes this): a restore clears the history."""
        if event.kind == "library.restored" or (event.kind == "picture.changed" and "restored_from" in event.data):
            self.journal.deliver()  # a restore gave the library a new mark: its history is cleared

    # -- gathering steps --------------------------------------------------------------------------

    @contextlib.contextmanager
    def step(self, label: str) -> Iterator[None]:
        """The edits inside the block are one step, labelled ``label`` (a nested block joins the outer).
        They are one transaction with it: an exception undoes them all, and nothing is recorded."""
        if getattr(self._local, "parts", None) is not None:
            yield
            return
        self._local.parts, self._local.count = [], 0
        try:
            with self._transaction():
                yield
                if self._local.parts:
                    self.journal.push(label, self._local.count, self._local.parts, self.clock())
        finally:
            self._local.parts = None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        outermost = not self.db.connection.in_transaction
        with self.db.write():
            yield
        if outermost:
            self.journal.deliver()

    def _record(self, part: dict, count: int, label: str) -> None:
        if getattr(self._local, "parts", None) is not None:
            self._local.parts.append(part)
            self._local.count = max(self._local.count, count)
        else:
            self.journal.push(label, count, [part], self.clock())

    # -- the edits ----------------------------------------------------------------------------------

    @_atomic
    def set_fields(self, picture_ids: Sequence[int], **fields: object) -> int:
        """Rating, favourite, flagged or taken_at on several pictures, one step."""
        ids = self.pictures.require(picture_ids)
        parts = []
        for field, value in fields.items():
            before: dict[object, list[int]] = defaultdict(list)
            for pid, old in self.state.field_values(ids, field):
                if old != value:
                    before[old].append(pid)
            if before:
                parts.append({"kind": "fields", "field": field, "value": value, "before": list(before.items())})
        changed = self.editor.update(ids, **fields)
        for part in parts:
            count = sum(len(group) for _, group in part["before"])
            self._record(part, count, fields_label(part["field"], part["value"], count))
        return changed

    @_atomic
    def tag(self, picture_ids: Sequence[int], add: Sequence[str] = (), remove: Sequence[str] = ()) -> None:
        ids = self.pictures.require(picture_ids)
        tags = self.tags
        added, removed = [], []
        for name in add:
            tag_id = tags.resolve(name)
            have = {row[0] for row in self.state.tag_rows(ids, tag_id)} if tag_id is not None else set()
            if new := [pid for pid in ids if pid not in have]:
                added.append([name, new])
        for name in remove:
            tag_id = tags.resolve(name)
            if tag_id is not None and (rows := self.state.tag_rows(ids, tag_id)):
                removed.append([name, [list(row) for row in rows]])
        self.editor.tag(ids, add=add, remove=remove)
        if not (added or removed):
            return
        # Tags are recorded by name: a replay finds them as they are then (made again if deleted since).
        touched = {pid for _, new in added for pid in new} | {row[0] for _, rows in removed for row in rows}
        words = [f"+{name}" for name, _ in added] + [f"−{name}" for name, _ in removed]
        self._record(
            {"kind": "tags", "added": added, "removed": removed},
            len(touched),
            f"Tag {pictures_phrase(len(touched))} {', '.join(words)}",
        )

    def caption(self, picture_id: int, text: str | None) -> None:
        self._caption(picture_id, lambda: self.editor.set_caption(picture_id, text))

    def accept_caption(self, picture_id: int, source: str) -> None:
        self._caption(picture_id, lambda: self.editor.accept_caption(picture_id, source))

    @_atomic
    def _caption(self, picture_id: int, change: Callable[[], None]) -> None:
        before = self.state.user_caption(picture_id)
        change()
        after = self.state.user_caption(picture_id)
        if before != after:
            part = {"kind": "caption", "picture": picture_id, "before": before, "after": after}
            self._record(part, 1, f"Caption picture {picture_id}")

    @_atomic
    def scrap(self, picture_ids: Sequence[int], label: str | None = None) -> list[int]:
        """Move pictures to the scrapheap, as one step (``label`` names it in the history)."""
        moved = self.scrapheap.scrap(picture_ids)
        if moved:
            said = label or f"Move {pictures_phrase(len(moved))} to the scrapheap"
            self._record({"kind": "scrap", "ids": moved}, len(moved), said)
        return moved

    @_atomic
    def unscrap(self, picture_ids: Sequence[int]) -> list[int]:
        moved = self.scrapheap.unscrap(picture_ids)
        if moved:
            self._record({"kind": "unscrap", "ids": moved}, len(moved), f"Restore {pictures_phrase(len(moved))}")
        return moved

    def add_members(self, collection_id: int, picture_ids: Sequence[int]) -> None:
        self._membership("collection", collection_id, picture_ids, add=True)

    def remove_members(self, collection_id: int, picture_ids: Sequence[int]) -> None:
        self._membership("collection", collection_id, picture_ids, add=False)

    def add_to_project(self, project_id: int, picture_ids: Sequence[int]) -> None:
        self._membership("project", project_id, picture_ids, add=True)

    def remove_from_project(self, project_id: int, picture_ids: Sequence[int]) -> None:
        self._membership("project", project_id, picture_ids, add=False)

    @_atomic
    def review_predictions(self, picture_id: int, accept: Sequence[str] = (), reject: Sequence[str] = ()) -> None:
        """Accept predicted tags (they become the picture's tags) or reject them (never proposed again)."""
        self.pictures.require([picture_id])
        if part := self._predictions.review(picture_id, accept, reject):
            self._record(part, 1, review_label(picture_id, part["accepted"], part["rejected"]))

    @_atomic
    def file_under_character(self, name: str, picture_ids: Sequence[int]) -> Collection:
        """Add pictures to the character named ``name``, made when there is none (see Organiser)."""
        ids = self.pictures.require(picture_ids)
        found = self.organiser.character_named(name)
        before = set(self.state.collection_members(found.id, ids)) if found else set()
        filed = self.organiser.file_under_character(name, ids)
        if found is None:
            part = {"kind": "created", "container": "collection", "contents": self.state.collection_contents(filed.id)}
            self._record(part, len(ids), f"File {pictures_phrase(len(ids))} under the new character {filed.name}")
        elif changed := [pid for pid in ids if pid not in before]:
            part = {"kind": "members", "container": "collection", "id": filed.id, "add": True, "ids": changed}
            self._record(part, len(changed), f"Add {pictures_phrase(len(changed))} to {filed.name}")
        return filed

    @_atomic
    def _membership(self, container: str, container_id: int, picture_ids: Sequence[int], *, add: bool) -> None:
        org = self.organiser
        ids = self.pictures.require(picture_ids) if add else list(picture_ids)
        members = self.state.project_members if container == "project" else self.state.collection_members
        before = set(members(container_id, ids))
        if container == "project":
            (org.add_to_project if add else org.remove_from_project)(container_id, ids)
        else:
            (org.add_members if add else org.remove_members)(container_id, ids)
        changed = [pid for pid in ids if pid not in before] if add else sorted(before)
        if changed:
            name = (self.state.container_details(container, container_id) or {}).get("name")
            part = {"kind": "members", "container": container, "id": container_id, "add": add, "ids": changed}
            words = f"Add {pictures_phrase(len(changed))} to" if add else f"Remove {pictures_phrase(len(changed))} from"
            self._record(part, len(changed), f"{words} {name}")

    @_atomic
    def edit_details(self, container: str, container_id: int, **fields: str | None) -> None:
        """Name, description or colour of a project (``container`` "project") or a set or character
        ("collection")."""
        before = self.state.container_details(container, container_id)
        update = self.organiser.update_project if container == "project" else self.organiser.update_collection
        update(container_id, **fields)
        after = self.state.container_details(container, container_id)
        if before is not None and before != after:
            part = {"kind": "details", "container": container, "id": container_id, "before": before, "after": after}
            renamed = before["name"] != after["name"]
            label = f"Rename {before['name']} to {after['name']}" if renamed else f"Edit {after['name']}"
            self._record(part, 1, label)

    @_atomic
    def not_duplicates(self, picture_ids: Sequence[int]) -> int:
        """Say pictures are not duplicates: they leave their near-duplicate groups and are not grouped again."""
        ids = self.pictures.require(picture_ids)
        before = self.pictures.duplicates.mark_distinct(ids)
        self._duplicates_changed(ids)
        self._record({"kind": "distinct", "before": before}, len(ids), f"Not duplicates: {pictures_phrase(len(ids))}")
        return len(ids)

    @_atomic
    def create_collection(
        self,
        kind: CollectionKind,
        name: str,
        project_id: int | None = None,
        description: str = "",
        color: str | None = None,
    ) -> Collection:
        made = self.organiser.create_collection(kind, name, project_id, description, color)
        part = {"kind": "created", "container": "collection", "contents": self.state.collection_contents(made.id)}
        self._record(part, 1, f"Create the {kind} {made.name}")
        return made

    def save_set_operation(self, collection_ids: Sequence[int], op: SetOp, name: str, project_id: int | None) -> int:
        """The result of a set operation kept as a new set, one step; its id."""
        ids = self.organiser.set_operation(collection_ids, op)
        with self.step(f"Save the {op} as the set {name}"):
            made = self.create_collection("set", name, project_id)
            if ids:
                self.add_members(made.id, ids)
        return made.id

    @_atomic
    def delete_collection(self, collection_id: int) -> None:
        """Delete a set or character (never its pictures); undo puts it back with its members and faces."""
        contents = self.state.collection_contents(collection_id)
        self.organiser.delete_collection(collection_id)
        if contents is not None:
            row = contents["row"]
            part = {"kind": "deleted", "container": "collection", "contents": contents}
            self._record(part, max(1, len(contents["members"])), f"Delete the {row['kind']} {row['name']}")

    @_atomic
    def delete_tag(self, tag_id: int) -> None:
        """Delete a tag from the vocabulary and every picture, one step: undo puts it back on those pictures
        (by name, with each row's source and confidence)."""
        name, aliases = self.tags.get(tag_id).name, self.state.aliases(tag_id)
        rows = [list(row) for row in self.state.every_tag_row(tag_id)]
        self.organiser.delete_tag(tag_id)
        with self.step(f"Delete the tag {name}"):  # its aliases come back after it (parts undo in reverse)
            if aliases:
                self._record({"kind": "tag_unaliased", "tag": name, "aliases": aliases}, 1, "")
            part = {"kind": "tags", "added": [], "removed": [[name, rows]] if rows else []}
            self._record(part, max(1, len({row[0] for row in rows})), "")

    @_atomic
    def rename_tag(self, tag_id: int, name: str | None = None, category: str | None = None) -> None:
        """Rename a tag or move it to another category."""
        if part := self._tag_steps.rename(tag_id, name, category):
            self._record(part, 1, f"Rename the tag {part['before'][0]}" + (f" to {part['after'][0]}" if name else ""))

    @_atomic
    def alias_tag(self, tag_id: int, alias: str) -> None:
        if part := self._tag_steps.alias(tag_id, alias):
            self._record(part, 1, f"Call {part['tag']} also {', '.join(part['aliases'])}")

    @_atomic
    def merge_tags(self, source_id: int, target_id: int) -> None:
        """Fold one tag into another: its pictures, predictions and name (as an alias)."""
        if part := self._tag_steps.merge(source_id, target_id):
            count = max(1, len({row[0] for row in part["rows"]}))
            self._record(part, count, f"Merge the tag {part['source'][0]} into {part['into']}")
            self.events.publish(
                Event("picture.changed", sorted({row[0] for row in part["rows"]}), {"fields": ["tags"]})
            )
        self.events.publish(Event("tag.changed", data={"tag_id": target_id}))

    @_atomic
    def reject_faces(self, character_id: int, face_ids: Sequence[int]) -> int:
        """Never suggest these faces for the character again."""
        if part := self._containers.reject(character_id, face_ids):
            count = len(part["faces"])
            self._record(part, count, f"Not {part['name']}: {count:,} face{'' if count == 1 else 's'}")
        return len(face_ids)

    @_atomic
    def move_collection(self, collection_id: int, project_id: int | None) -> Collection:
        """Move a set or character to another project (or none); its pictures follow."""
        before = self.state.collection_row(collection_id)
        moved = self.organiser.move_collection(collection_id, project_id)
        if before is not None and before["project_id"] != project_id:
            part = {"kind": "moved", "id": collection_id, "before": before["project_id"], "after": project_id}
            self._record(part, max(1, moved.member_count), f"Move {moved.name}")
        return moved

    @_atomic
    def create_project(self, name: str, description: str = "", color: str | None = None) -> Project:
        made = self.organiser.create_project(name, description, color)
        part = {"kind": "created", "container": "project", "contents": self.state.project_contents(made.id)}
        self._record(part, 1, f"Create the project {made.name}")
        return made

    @_atomic
    def delete_project(self, project_id: int) -> None:
        """Delete a project (its sets and characters stay, outside any project); undo puts it back whole."""
        contents = self.state.project_contents(project_id)
        self.organiser.delete_project(project_id)
        if contents is not None:
            part = {"kind": "deleted", "container": "project", "contents": contents}
            self._record(part, max(1, len(contents["direct"])), f"Delete the project {contents['row']['name']}")

    @_atomic
    def assign_faces(self, face_ids: Sequence[int], character_id: int | None) -> int:
        """Name faces as a character (or clear their names); their pictures join the character."""
        rows = self.state.face_characters(face_ids)
        on = sorted({picture_id for *_, picture_id in rows})
        members = set(self.state.collection_members(character_id, on)) if character_id is not None else set()
        named = self.organiser.assign_faces(face_ids, character_id)
        changed = [[face_id, old] for face_id, old, _ in rows if old != character_id]
        if changed:
            joined = [pid for pid in on if pid not in members] if character_id is not None else []
            part = {"kind": "faces", "character": character_id, "before": changed, "joined": joined}
            details = self.state.container_details("collection", character_id) if character_id is not None else None
            name = details and details["name"]
            faces = f"{len(changed)} face{'' if len(changed) == 1 else 's'}"
            self._record(part, len(changed), f"Name {faces} {name}" if name else f"Clear the name of {faces}")
        return named

    @_atomic
    def stacks(self, label: str, memberships: dict[int, int | None], covers: dict[int, int | None]) -> None:
        """Put pictures in stacks (None: in none) and set stacks' covers, as one step (see organising/stacks.py)."""
        assert self.stack_store is not None
        before_members = self.stack_store.stacks_of(list(memberships))
        before_covers = self.stack_store.covers(list(covers))
        self.stack_store.put(memberships, covers)
        self.events.publish(Event("picture.changed", sorted(memberships), _STACKED))
        part = {
            "kind": "stacks",
            "before": [list(before_members.items()), list(before_covers.items())],
            "after": [list(memberships.items()), list(covers.items())],
        }
        self._record(part, len(memberships), label)

    @_atomic
    def change_look(self, picture_ids: Sequence[int], change: EditChange) -> list[int]:
        """Turn, mirror, straighten, crop or revert pictures (their originals untouched), one step; the
        ids whose edit changed."""
        assert self.looks is not None
        before, after = self.looks.change(picture_ids, change)
        if after:
            self._record({"kind": "look", "before": before, "after": after}, len(after), look_label(change, after))
        return sorted(pid for pid, _ in after)

    def _undo_look(self, part: dict) -> None:
        self._replay_look(part["before"])

    def _redo_look(self, part: dict) -> None:
        self._replay_look(part["after"])

    def _replay_look(self, rows: list) -> None:
        assert self.looks is not None
        alive = set(self.state.existing([pid for pid, _ in rows]))
        self.looks.put_back([row for row in rows if row[0] in alive])

    # -- undo and redo -------------------------------------------------------------------------------

    def undo(self) -> HistoryStep | None:
        """Revert the newest step not undone yet; None when there is none."""
        with self._lock:
            self.journal.deliver()
            step = self.log.last_done(self.journal.whose())
            if step is None:
                return None
            with self._transaction():
                for part in reversed(step.parts or []):
                    if kind := self.kinds.get(part["kind"]):
                        kind[0](part)
                    else:
                        getattr(self, f"_undo_{part['kind']}")(part)
                self.journal.mark(step.id, undone=True)
            return _public(step, undone=True)

    def redo(self) -> HistoryStep | None:
        """Make the oldest undone step again; None when there is none (a new edit discards them)."""
        with self._lock:
            self.journal.deliver()
            step = self.log.first_undone(self.journal.whose())
            if step is None:
                return None
            with self._transaction():
                for part in step.parts or []:
                    if kind := self.kinds.get(part["kind"]):
                        kind[1](part)
                    else:
                        getattr(self, f"_redo_{part['kind']}")(part)
                self.journal.mark(step.id, undone=False)
            return _public(step, undone=False)

    def history(self, limit: int = 100) -> History:
        self.journal.deliver()
        done, undone = self.log.counts(self.journal.whose())
        steps = [_public(step, undone=step.undone) for step in self.log.steps(limit, self.journal.whose())]
        return History(steps, can_undo=done > 0, can_redo=undone > 0)

    # Replays use the library's own methods, never the recording ones above; pictures purged since are
    # skipped.

    def _undo_fields(self, part: dict) -> None:
        for old, ids in part["before"]:
            if ids := self.state.existing(ids):
                self.editor.update(ids, **{part["field"]: old})

    def _redo_fields(self, part: dict) -> None:
        if ids := self.state.existing([pid for _, group in part["before"] for pid in group]):
            self.editor.update(ids, **{part["field"]: part["value"]})

    def _undo_tags(self, part: dict) -> None:
        self._replay_tags(take=part["added"], put=part["removed"], put_as_they_were=True)

    def _redo_tags(self, part: dict) -> None:
        self._replay_tags(take=[[name, [row[0] for row in rows]] for name, rows in part["removed"]], put=part["added"])

    def _replay_tags(self, take: list, put: list, put_as_they_were: bool = False) -> None:
        tags, touched = self.tags, set()
        with self.db.write():
            for name, ids in take:
                if (current := tags.resolve(name)) is not None and (ids := self.state.existing(ids)):
                    tags.remove_from_pictures(ids, [current])
                    touched.update(ids)
            for name, entries in put:
                tag_id = tags.ensure(name)
                if put_as_they_were:
                    alive = set(self.state.existing([row[0] for row in entries]))
                    self.state.put_tag_rows(tag_id, [row for row in entries if row[0] in alive])
                    touched.update(alive)
                elif ids := self.state.existing(entries):
                    tags.add_to_pictures(ids, [tag_id])
                    touched.update(ids)
        if touched:
            self.events.publish(Event("picture.changed", sorted(touched), {"fields": ["tags"]}))

    def _undo_caption(self, part: dict) -> None:
        if self.state.existing([part["picture"]]):
            self.editor.set_caption(part["picture"], part["before"])

    def _redo_caption(self, part: dict) -> None:
        if self.state.existing([part["picture"]]):
            self.editor.set_caption(part["picture"], part["after"])

    def _undo_scrap(self, part: dict) -> None:
        if ids := self.state.existing(part["ids"]):
            self.scrapheap.unscrap(ids)

    _redo_unscrap = _undo_scrap

    def _redo_scrap(self, part: dict) -> None:
        if ids := self.state.existing(part["ids"]):
            self.scrapheap.scrap(ids)

    _undo_unscrap = _redo_scrap

    def _undo_members(self, part: dict) -> None:
        self._replay_members(part, add=not part["add"])

    def _redo_members(self, part: dict) -> None:
        self._replay_members(part, add=part["add"])

    def _replay_members(self, part: dict, *, add: bool) -> None:
        org, ids = self.organiser, self.state.existing(part["ids"])
        if not ids or self.state.container_details(part["container"], part["id"]) is None:
            return  # the set or project was deleted since
        if part["container"] == "project":
            (org.add_to_project if add else org.remove_from_project)(part["id"], ids)
        else:
            (org.add_members if add else org.remove_members)(part["id"], ids)

    def _undo_stacks(self, part: dict) -> None:
        self._replay_stacks(part["before"])

    def _redo_stacks(self, part: dict) -> None:
        self._replay_stacks(part["after"])

    def _replay_stacks(self, state: list) -> None:
        assert self.stack_store is not None
        memberships, covers = state
        alive = set(self.state.existing([pid for pid, _ in memberships] + [c for _, c in covers if c]))
        with self.db.write():
            self.stack_store.put(
                {pid: sid for pid, sid in memberships if pid in alive},
                {sid: (cover if cover in alive else None) for sid, cover in covers},
            )
        self.events.publish(Event("picture.changed", sorted(pid for pid, _ in memberships if pid in alive), _STACKED))

    def _undo_distinct(self, part: dict) -> None:
        with self.db.write():
            self.pictures.duplicates.unmark_distinct(part["before"])
        self._duplicates_changed([row[0] for row in part["before"]])

    def _redo_distinct(self, part: dict) -> None:
        ids = self.state.existing([row[0] for row in part["before"] if len(row) == 2])
        with self.db.write():
            self.pictures.duplicates.mark_distinct(ids)
        self._duplicates_changed(ids)

    def _duplicates_changed(self, picture_ids: Sequence[int]) -> None:
        if self.near_duplicates is not None:
            self.near_duplicates.invalidate()  # distinct pictures' hashes are compared no more
        self.events.publish(Event("picture.changed", sorted(picture_ids), {"fields": ["duplicates"]}))


def _public(step: LoggedStep, *, undone: bool) -> HistoryStep:
    return HistoryStep(step.id, step.label, step.count, step.created_at, undone)
