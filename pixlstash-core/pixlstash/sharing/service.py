"""Share links: read-only, scoped to pictures, a set, a character or a project; expiring; revocable.

A recipient's every request goes through ``restrict()``: whatever filter they send, membership and
scrapheap fields are replaced by the share's scope, so nothing outside it can be listed, counted,
described or fetched. Images pass through the registered share transforms (the watermark).
"""

from __future__ import annotations

import hmac
import io
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import msgspec
from PIL import Image

from ..auth import Forbidden, Principal, Unauthenticated, digest, new_secret
from ..db.collections import CollectionStore
from ..db.pictures import PictureStore
from ..db.query import PictureQuery
from ..domain import (
    Generation,
    MediaType,
    Page,
    PictureFilter,
    PictureSummary,
    PictureTag,
    SearchResult,
    Sort,
    Statistics,
)
from ..errors import BadInput, NotFound, PixlstashError
from ..files.picture_files import PictureFiles
from ..organising.curated import may_manage
from ..system.clock import now_ms
from .renders import ShareRenders
from .transforms import ShareContext, ShareTransform

if TYPE_CHECKING:
    from ..auth import Authenticator

__all__ = [
    "Share",
    "ShareGone",
    "ShareOptions",
    "ShareService",
    "SharedHit",
    "SharedPage",
    "SharedPicture",
    "SharedSearchResult",
    "SharedSummary",
]

ScopeType = Literal["pictures", "set", "character", "project"]
SHARE_PREFIX = "pxh_"
_DAY_MS = 86_400_000


class ShareGone(PixlstashError):
    """The share link expired or was revoked."""

    code = "share_gone"


class ShareOptions(msgspec.Struct, frozen=True, omit_defaults=True, forbid_unknown_fields=True):
    allow_original: bool = True  # recipients may download full-size files
    # the full-size download of an edited picture is its edited look (a PNG or JPEG made from the
    # original), not the original file
    edited_downloads: bool = False
    include_metadata: bool = False  # show tags, captions and generation data
    watermark: dict[str, Any] | None = None  # {"text": ..., "image": ..., "opacity": ..., "position": ...}


class Share(msgspec.Struct, frozen=True):
    id: int
    prefix: str
    scope_type: ScopeType
    scope_id: int | None
    picture_ids: list[int]
    title: str
    options: ShareOptions
    created_at: int
    expires_at: int | None
    last_used_at: int | None
    revoked: bool
    owner: str = "owner"  # what made it, and ends it: "token N", or the owner's account


class SharedPicture(msgspec.Struct, frozen=True):
    """What a share recipient may know about a picture: nothing that points outside the share."""

    id: int
    content_hash: str
    media_type: MediaType
    mime: str
    width: int
    height: int
    taken_at: int
    duration: float | None = None
    rating: int | None = None
    tags: list[PictureTag] = []
    caption: str | None = None
    generation: Generation | None = None
    edit_key: str = ""  # the picture is shown edited: its image URLs take ?edit=KEY


class SharedSummary(msgspec.Struct, frozen=True, omit_defaults=True):
    """A grid cell as a recipient sees it. The rating only when the share includes metadata; favourites,
    flags, file sizes and import times are the owner's working state and never leave the library."""

    id: int
    content_hash: str
    media_type: MediaType
    width: int
    height: int
    taken_at: int
    rating: int | None = None
    edit_key: str = ""


class SharedPage(msgspec.Struct, frozen=True):
    items: list[SharedSummary]
    next_cursor: str | None


class SharedHit(msgspec.Struct, frozen=True):
    picture: SharedSummary
    similarity: float


class SharedSearchResult(msgspec.Struct, frozen=True):
    engine_id: str
    hits: list[SharedHit]


def _to_share(row) -> Share:
    return Share(
        row.id,
        row.prefix,
        row.scope_type,
        row.scope_id,
        msgspec.json.decode(row.picture_ids),
        row.title,
        msgspec.json.decode(row.options, type=ShareOptions),
        row.created_at,
        row.expires_at,
        row.last_used_at,
        row.revoked_at is not None,
        f"token {row.owner_id}" if row.owner_kind == "token" else "owner",
    )


def _owner_of(principal: Principal | None) -> tuple[str, int] | None:
    """What a new share link belongs to: the API token that makes it, or the signed-in account."""
    if principal is None:
        return None
    if principal.kind == "token":
        return ("token", principal.id)
    return ("user", principal.user_id) if principal.user_id is not None else None


def _owns(principal: Principal, row) -> bool:
    # A link made before links had owners is the owner's account's: only an administrator ends it (a
    # member's session is a session too).
    return bool(row.owner_kind) and _owner_of(principal) == (row.owner_kind, row.owner_id)


_NO_FILTER = PictureFilter()
# "text" searches the full-text index, which also holds file names, OCR text and the names of sets,
# characters and projects that no share shows (one bit per request would spell them out): in a share that
# shows metadata it searches only what the share shows (``shown_text``); in one that does not, nothing.
_NEVER_SHOWN = {"favourite", "flagged", "stack", "stack_covers", "score_engine", "score_min", "score_max"}
# Sizes and import times are the owner's working state: sorting by them (the cursor carries the exact value)
# would show them.
_NEVER_SORTED = {"file_size", "imported_at"}
_SORT_WORDS = {"file_size": "file sizes", "imported_at": "import times"}
# What a share without "include metadata" hides, so cannot be filtered on: ratings, tags, captions and
# other text, generation data, faces and import times.
_METADATA_FILTERS = {
    "tags",
    "any_tags",
    "not_tags",
    "text",
    "shown_text",
    "rating_min",
    "rating_max",
    "unrated",
    "loras",
    "checkpoint",
    "generation_seed",
    "sampler",
    "scheduler",
    "steps",
    "faces",
    "min_faces",
    "max_faces",
    "unnamed_faces",
    "imported_after",
    "imported_before",
    "has_text",
}


class ShareService:
    """Share links kept in ``auth``'s database over one library's pictures; ``transforms`` change the
    images recipients get (from the ``register_share_transforms`` hook)."""

    def __init__(
        self,
        auth: Authenticator,
        pictures: PictureStore,
        collections: CollectionStore,
        query: PictureQuery,
        files: PictureFiles,
        *,
        watermark_folder: Path,
        transforms: list[ShareTransform],
        renders_folder: Path,
    ) -> None:
        self.auth, self.pictures, self.collections, self.query, self.files = auth, pictures, collections, query, files
        self.watermark_folder, self.transforms = Path(watermark_folder), transforms
        self.renders = ShareRenders(renders_folder)

    def create(
        self,
        scope_type: ScopeType,
        scope_id: int | None = None,
        picture_ids: list[int] | None = None,
        title: str = "",
        options: ShareOptions | None = None,
        expires_in_days: float | None = None,
        made_by: Principal | None = None,
    ) -> tuple[Share, str]:
        """Make a share link; returns the share and its secret token (shown once). A link ``made_by`` an API
        token ends when that token is revoked or expires."""
        ids: list[int] = []
        if scope_type == "pictures":
            if not picture_ids:
                raise BadInput("a picture share needs at least one picture")
            ids = self.pictures.require(picture_ids)
            scope_id = None
        elif scope_type in ("set", "character"):
            # A private set is shared by whoever may manage it, not by those it lets look.
            may_manage(self.collections.collection(int(scope_id or 0), scope_type))  # type: ignore[arg-type]
        elif scope_type == "project":
            self.collections.project(int(scope_id or 0))
        else:
            raise BadInput("a share is of pictures, a set, a character or a project")
        if expires_in_days is not None and expires_in_days <= 0:
            raise BadInput("expiry must be in the future")
        secret = new_secret(SHARE_PREFIX)
        now = now_ms()
        expires_at = None if expires_in_days is None else now + int(expires_in_days * _DAY_MS)
        with self.auth.db.write():
            share_id = self.auth.store.add_share(
                digest(secret),
                secret[:8],
                scope_type,
                scope_id,
                msgspec.json.encode(ids).decode(),
                title[:200],
                msgspec.json.encode(options or ShareOptions()).decode(),
                now,
                expires_at,
                _owner_of(made_by),
            )
        return self.get(share_id), secret

    def keep_watermark_image(self, picture_id: int) -> Path:
        """Copy a library picture into ``<library>/watermarks`` for use as a watermark; returns its path.

        A copy, so the watermark survives the picture being deleted; named by content, so reusing a
        logo stores it once."""
        content_hash, suffix, _ = self.pictures.address(picture_id)
        if self.pictures.get(picture_id).media_type != "image":
            raise BadInput("a watermark is a still picture")
        target = self.watermark_folder / f"{content_hash}{suffix}"
        if not target.exists():
            target.parent.mkdir(exist_ok=True)
            shutil.copyfile(self.files.original_path(picture_id), target)
        return target

    def get(self, share_id: int) -> Share:
        row = self.auth.store.share(share_id)
        if row is None:
            raise NotFound(f"share {share_id} does not exist")
        return _to_share(row)

    def all(self) -> list[Share]:
        return [_to_share(row) for row in self.auth.store.shares()]

    def revoke(self, share_id: int, by: Principal | None = None) -> None:
        """End a share link at once; only an administrator ends one made by someone else."""
        row = self.auth.store.share(share_id)
        if row is not None and by is not None and by.scope != "admin" and not _owns(by, row):
            raise Forbidden("only an administrator revokes a share link made by another token or account")
        with self.auth.db.write():
            if not self.auth.store.revoke_share(share_id, now_ms()):
                raise NotFound(f"no active share {share_id}")
        self.renders.forget(share_id)

    def prune_renders(self) -> None:
        """Drop the renders of links that ended (expired, or revoked by another process)."""
        now = now_ms()
        live = {s.id for s in self.all() if not s.revoked and (s.expires_at is None or s.expires_at > now)}
        self.renders.prune(live)

    def reown(self, share_id: int, to: Principal) -> Share:
        """Make ``to`` the link's owner (an administrator keeping a link alive past the token that made it)."""
        with self.auth.db.write():
            if not self.auth.store.set_share_owner(share_id, _owner_of(to)):
                raise NotFound(f"share {share_id} does not exist")
        return self.get(share_id)

    def resolve(self, secret: str) -> tuple[Share, Principal]:
        """The share a token opens; unknown tokens are 401, expired or revoked ones say so."""
        row = self.auth.store.share_by_hash(digest(secret))
        if row is None or not hmac.compare_digest(row.token_hash, digest(secret)):
            raise Unauthenticated("this share link does not exist")
        now = now_ms()
        if row.revoked_at is not None:
            raise ShareGone("this share link was revoked by its owner")
        if row.expires_at is not None and row.expires_at <= now:
            raise ShareGone("this share link has expired")
        if row.owner_kind == "token" and not self.auth.store.token_active(row.owner_id, now):
            raise ShareGone("this share link ended with the token that made it")
        if row.owner_kind == "user" and not self.auth.store.user_active(row.owner_id):
            raise ShareGone("this share link ended with the account that made it")
        if row.last_used_at is None or now - row.last_used_at > 60_000:
            with self.auth.db.write():
                self.auth.store.touch_share(row.id, now)
        # The recipient sees what the link's maker may see, and no more: a member's link scoped to a tag never
        # reaches another member's private pictures with that tag.
        maker = row.owner_id if row.owner_kind == "user" else None
        if row.owner_kind == "token":
            maker = self.auth.store.token_user(row.owner_id)
        maker = maker if maker is not None else self.auth.store.owner_id()
        account = self.auth.store.account(maker) if maker is not None else None
        return _to_share(row), Principal("share", "share", row.id, maker, role=account.role if account else None)

    @staticmethod
    def restrict(share: Share, requested: PictureFilter | None = None) -> PictureFilter:
        """The recipient's filter with every membership field replaced by the share's scope. A filter on
        something the share does not show is refused (400), never applied: ~600 requests of
        "checkpoint contains ..." once spelled out a hidden checkpoint's name."""
        base = requested or PictureFilter()
        hidden = _NEVER_SHOWN | (set() if share.options.include_metadata else _METADATA_FILTERS)
        asked = sorted(name for name in hidden if getattr(base, name) != getattr(_NO_FILTER, name))
        if asked:
            raise BadInput(f"this share does not show what these filter on: {', '.join(asked)}", fields=asked)
        scope: dict[str, Any] = {
            "text": None,
            "shown_text": base.shown_text or base.text,
            "project": None,
            "collections": [],
            "collection_op": "union",
            "ids": None,
            "scrapheap": False,
            "folder": None,
            "source": None,
            "missing": None,
        }
        if share.scope_type == "pictures":
            scope["ids"] = share.picture_ids
        elif share.scope_type in ("set", "character"):
            scope["collections"] = [share.scope_id]
        else:
            scope["project"] = share.scope_id
        return msgspec.structs.replace(base, **scope)

    @staticmethod
    def restrict_sort(share: Share, sort: Sort) -> Sort:
        """Sorting by rating would reveal ratings a share without metadata hides, and by a score the scores no
        share shows: refused, like filters."""
        if sort.key in _NEVER_SORTED:
            raise BadInput(
                f"this share does not show {_SORT_WORDS[sort.key]}, so it cannot sort by them", fields=["sort"]
            )
        if not share.options.include_metadata and sort.key == "rating":
            raise BadInput("this share does not show ratings, so it cannot sort by them", fields=["sort"])
        if sort.key.startswith("score:"):
            raise BadInput("a share does not show scores, so it cannot sort by them", fields=["sort"])
        return sort

    # -- what a recipient gets back: exactly the fields the share's options allow -------------------

    @staticmethod
    def summary(share: Share, p: PictureSummary) -> SharedSummary:
        rating = p.rating if share.options.include_metadata else None
        return SharedSummary(p.id, p.content_hash, p.media_type, p.width, p.height, p.taken_at, rating, p.edit_key)

    def page(self, share: Share, page: Page) -> SharedPage:
        return SharedPage([self.summary(share, p) for p in page.items], page.next_cursor)

    def search_result(self, share: Share, result: SearchResult) -> SharedSearchResult:
        return SharedSearchResult(
            result.engine_id, [SharedHit(self.summary(share, h.picture), h.similarity) for h in result.hits]
        )

    @staticmethod
    def statistics(share: Share, statistics: Statistics) -> Statistics:
        # No share shows scores or file sizes.
        statistics = msgspec.structs.replace(statistics, scores=[], total_bytes=0, file_size=[])
        if share.options.include_metadata:
            return statistics
        return msgspec.structs.replace(statistics, tags=[], rating={})

    def contains(self, share: Share, picture_id: int, *, scrapheap: bool = False) -> bool:
        """True when the picture is inside the share's scope right now (live, or in the scrapheap if asked)."""
        return bool(self.within(share, [picture_id], scrapheap=scrapheap))

    def within(self, share: Share, picture_ids: list[int], *, scrapheap: bool = False) -> list[int]:
        """Those of ``picture_ids`` inside the share's scope right now, in the order given: one query
        however many there are (a bulk edit's event names thousands)."""
        if share.scope_type == "pictures":
            allowed = set(share.picture_ids)
            picture_ids = [i for i in picture_ids if i in allowed]
        if not picture_ids:
            return []
        f = msgspec.structs.replace(self.restrict(share), ids=picture_ids, scrapheap=scrapheap)
        found = set(self.query.ids(f))
        return [i for i in picture_ids if i in found]

    def add_to_library_of(self, share: Share, picture_id: int, user_id: int) -> bool:
        """ "Add to my library" from a share link, by an account signed in to this library: the shared picture
        becomes one of its own (it sees it from now on, as whoever shared it meant). False when it was already."""
        if not self.contains(share, picture_id):
            raise NotFound(f"picture {picture_id} is not in this share")
        with self.pictures.db.write():
            return bool(self.pictures.visibility.add_holders(user_id, [picture_id], now_ms()))

    def picture(self, share: Share, picture_id: int) -> SharedPicture:
        if not self.contains(share, picture_id):
            raise NotFound(f"picture {picture_id} is not in this share")
        p = self.pictures.get(picture_id)
        meta = share.options.include_metadata
        return SharedPicture(
            id=p.id,
            content_hash=p.content_hash,
            media_type=p.media_type,
            mime=p.mime,
            width=p.width,
            height=p.height,
            taken_at=p.taken_at,
            duration=p.duration,
            rating=p.rating if meta else None,
            tags=p.tags if meta else [],
            caption=(p.captions[0].text if p.captions else None) if meta else None,
            generation=p.generation if meta else None,
            edit_key=p.edit_key,
        )

    def picture_for_hash(self, share: Share, content_hash: str) -> int:
        picture_id = self.pictures.id_for_hash(content_hash) if content_hash.isalnum() else None
        if picture_id is None or not self.contains(share, picture_id):
            raise NotFound("no such picture in this share")
        return picture_id

    def context(self, share: Share) -> ShareContext:
        options = msgspec.structs.asdict(share.options)
        return ShareContext(
            share.id, share.scope_type, share.scope_id, {k: v for k, v in options.items() if v is not None}
        )

    def transforms_apply(self, share: Share) -> bool:
        """Whether any registered share transform (the watermark, a plugin's) changes what this share serves."""
        context = self.context(share)
        return any(transform.applies_to(context) for transform in self.transforms)

    def rendered(self, share: Share, picture_id: int, size: str) -> bytes:
        """A picture as this (transforming) share serves it, at ``size`` ("grid", "preview" or "original"):
        cached, bounded, made a few at a time (``renders``). A video's "original" is its poster."""
        content_hash, _, _ = self.pictures.address(picture_id)
        video = self.pictures.media_inputs([picture_id]).get(picture_id, ("", 0, 0, "image"))[3] == "video"
        edit = self.files.edit_key(picture_id)
        if size == "original" and not video and not (edit and share.options.edited_downloads):
            source = self.files.pixels_path(picture_id)
        else:  # a thumbnail shows the picture edited (a full-size edited look: its preview)
            source = self.files.thumbnail_path(picture_id, "preview" if size == "original" else size)
        options = msgspec.json.encode(share.options).decode()
        key = (content_hash, size, options, edit)
        return self.renders.get(share.id, key, source, lambda image: self.render(share, image))

    def render(self, share: Share, source: Image.Image) -> bytes:
        """An image as the recipient gets it: every share transform applied, encoded as WebP."""
        image, context = source, self.context(share)
        for transform in self.transforms:
            image = transform.apply(image, context)
        buffer = io.BytesIO()
        image.save(buffer, "WEBP", quality=85, method=2)
        return buffer.getvalue()
