"""Who may see which picture: every picture has the account that brought it in and is either shared with the
library or private to the accounts holding it.

The rule is enforced where pictures are read, like a database's row-level security: the web layer (and the
CLI's ``--as``) puts the account a piece of work is done for in force (``enter``, ``seen_by``), and the
storage layer's picture queries (``db.query.compile_filter``, ``PictureStore``'s lookups and the counts kept
apart) add ``db.visibility.visible_sql``'s condition while it is. Everything built on those queries (grids,
counts, statistics, search, similar search, exports, bulk changes) sees only what the account may see; a
picture it may not see does not exist for it. Work nobody asked for (enrichment, imports, snapshots) runs
with no account in force and sees the whole library.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

import msgspec

__all__ = ["Audience", "current_audience", "enter", "seen_by"]


class Audience(msgspec.Struct, frozen=True):
    """The account a piece of work is done for."""

    user_id: int
    sees_all: bool  # the owner and administrators see every picture
    is_owner: bool = False  # pictures brought in before accounts (no uploader kept) are the owner's


_current: contextvars.ContextVar[Audience | None] = contextvars.ContextVar("pixlstash_audience", default=None)


def current_audience() -> Audience | None:
    """The account in force, or None: work for nobody in particular, which sees everything."""
    return _current.get()


@contextlib.contextmanager
def seen_by(audience: Audience | None) -> Iterator[None]:
    """Run the block for ``audience``: picture queries in it see only what that account may see."""
    token = _current.set(audience)
    try:
        yield
    finally:
        _current.reset(token)


def enter(audience: Audience | None) -> None:
    """Put ``audience`` in force for the rest of this task's context (a web request: its context dies with it)."""
    _current.set(audience)
