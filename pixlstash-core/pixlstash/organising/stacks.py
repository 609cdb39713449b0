"""Stacks: variants grouped under a cover. A workflow run's outputs are stacked on their source, near-
duplicate groups become stacks on request, and a person stacks a selection. The grid shows one tile per
stack (``PictureFilter.stack_covers``); everything else (set operations, filters, exports) counts a stack
as its members. Every edit here is one undo step (``Edits.stacks``)."""

from __future__ import annotations

from collections.abc import Sequence

from ..db.database import Database
from ..db.pictures import PictureStore
from ..db.stacks import StackStore
from ..domain import DuplicateGroup, Stack
from ..errors import BadInput
from ..history.labels import pictures_phrase
from ..history.undo import Edits
from ..system.clock import now_ms

__all__ = ["Stacks"]


class Stacks:
    def __init__(self, db: Database, store: StackStore, pictures: PictureStore, edits: Edits) -> None:
        self.db, self.store, self.pictures, self.edits = db, store, pictures, edits

    def get(self, stack_id: int) -> Stack:
        return self.store.get(stack_id)

    def stack(self, picture_ids: Sequence[int], cover_id: int | None = None, origin: str = "manual") -> Stack:
        """A new stack of these pictures (they leave any stack they were in), under ``cover_id`` or the
        first of them."""
        ids = list(dict.fromkeys(int(i) for i in picture_ids))  # in the order given: the first is the cover
        self.pictures.require(ids)  # (which returns them sorted)
        if len(ids) < 2:
            raise BadInput("a stack needs two pictures or more")
        cover = ids[0] if cover_id is None else cover_id
        if cover not in ids:
            raise BadInput(f"the cover, picture {cover}, is not one of the pictures stacked")
        with self.db.write():
            stack_id = self.store.create(origin, now_ms())
            self.edits.stacks(f"Stack {pictures_phrase(len(ids))}", dict.fromkeys(ids, stack_id), {stack_id: cover})
        return self.store.get(stack_id)

    def add(self, stack_id: int, picture_ids: Sequence[int]) -> Stack:
        self.store.get(stack_id)
        ids = self.pictures.require(picture_ids)
        with self.db.write():
            self.edits.stacks(f"Add {pictures_phrase(len(ids))} to a stack", dict.fromkeys(ids, stack_id), {})
        return self.store.get(stack_id)

    def take_out(self, picture_ids: Sequence[int]) -> list[int]:
        """These pictures out of their stacks; a stack whose cover leaves gets its next member as cover,
        and a stack left with one picture is undone. Returns the pictures taken out."""
        stacked = {pid: sid for pid, sid in self.store.stacks_of(self.pictures.require(picture_ids)).items() if sid}
        if not stacked:
            return []
        memberships: dict[int, int | None] = dict.fromkeys(stacked, None)
        covers: dict[int, int | None] = {}
        for stack_id in set(stacked.values()):
            left = [m for m in self.store.members(stack_id) if m not in stacked]
            if len(left) < 2:
                memberships.update(dict.fromkeys(left, None))
            elif self.store.covers([stack_id])[stack_id] not in left:
                covers[stack_id] = left[0]
        with self.db.write():
            self.edits.stacks(f"Take {pictures_phrase(len(stacked))} out of their stacks", memberships, covers)
        return sorted(stacked)

    def set_cover(self, stack_id: int, picture_id: int) -> Stack:
        if picture_id not in self.store.get(stack_id).member_ids:
            raise BadInput(f"picture {picture_id} is not in stack {stack_id}")
        with self.db.write():
            self.edits.stacks("Change a stack's cover", {}, {stack_id: picture_id})
        return self.store.get(stack_id)

    def unstack(self, stack_id: int) -> list[int]:
        """Every picture of the stack back on its own; they stay in the library."""
        members = self.store.get(stack_id).member_ids
        with self.db.write():
            self.edits.stacks(f"Unstack {pictures_phrase(len(members))}", dict.fromkeys(members, None), {})
        return members

    def keep_cover(self, stack_id: int) -> list[int]:
        """Keep the cover and move the rest to the scrapheap (one undo step); returns those scrapped."""
        stack = self.store.get(stack_id)
        rest = [m for m in stack.member_ids if m != stack.cover_id]
        with self.edits.step(f"Keep the cover of a stack, scrap {pictures_phrase(len(rest))}"):
            with self.db.write():
                self.edits.stacks("", dict.fromkeys(stack.member_ids, None), {})
            return self.edits.scrap(rest)

    def from_duplicates(self, groups: Sequence[DuplicateGroup]) -> list[Stack]:
        """Each near-duplicate group as a stack under its largest picture (pictures already stacked are
        left where they are)."""
        made = []
        with self.edits.step(f"Stack {len(groups):,} groups of near-duplicates"):
            for group in groups:
                free = [pid for pid, sid in self.store.stacks_of(group.picture_ids).items() if sid is None]
                if len(free) >= 2:
                    pixels = {pid: self.pictures.get(pid).width * self.pictures.get(pid).height for pid in free}
                    largest = max(free, key=lambda pid: (pixels[pid], -pid))
                    made.append(self.stack(free, cover_id=largest, origin="duplicates"))
        return made
