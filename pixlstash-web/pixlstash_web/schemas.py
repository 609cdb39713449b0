"""Request and response bodies of the API that are not domain types of the core."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from pixlstash.domain import VISIBLE, EditChange, EngineId, Id, Int64, PictureFilter, Score, SetOp, Sort, SortKey

__all__ = [
    "BadgesQuery",
    "BulkEdit",
    "BulkFilterRequest",
    "BulkOperation",
    "BulkPrivate",
    "BulkRequest",
    "CollectionCreate",
    "CollectionPatch",
    "Count",
    "FolderCreate",
    "Ids",
    "ListQuery",
    "LoginRequest",
    "MoveRequest",
    "PicturePatch",
    "ProjectCreate",
    "ProjectPatch",
    "PruneRequest",
    "PruneResult",
    "ServerImportRequest",
    "SetOperationRequest",
    "SetupRequest",
    "ShareCreate",
    "TokenCreate",
    "UpdateSettingsRequest",
]

RowId = Annotated[int, Meta(ge=1, le=2**63 - 1)]  # a picture's, a set's, a character's: what SQLite hands out
IdList = Annotated[list[RowId], Meta(max_length=100_000)]
Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=VISIBLE)]  # not only whitespace
Color = Annotated[str, Meta(pattern=r"^#[0-9a-fA-F]{6}$")]


class ListQuery(PictureFilter, frozen=True, kw_only=True):
    """Filters plus order and paging, as query parameters."""

    sort: SortKey = "taken_at"
    descending: bool = True
    seed: Int64 = 0
    cursor: str | None = None
    limit: Annotated[int, Meta(ge=1, le=1000)] = 100

    def split(self) -> tuple[PictureFilter, Sort]:
        fields = {f: getattr(self, f) for f in PictureFilter.__struct_fields__}
        return PictureFilter(**fields), Sort(self.sort, self.descending, self.seed)


class LayoutQuery(ListQuery, frozen=True, kw_only=True):
    """A grid's layout: its order, and how its pictures are headed (by local day, or by rating)."""

    groups: Literal["none", "day", "rating"] = "none"
    # The viewer's offset from UTC in minutes, so days begin at their midnight, not UTC's.
    utc_offset: Annotated[int, Meta(ge=-840, le=840)] = 0


class FilterQuery(PictureFilter, frozen=True, kw_only=True):
    """Filters alone (counts, statistics)."""

    def filter(self) -> PictureFilter:
        return PictureFilter(**{f: getattr(self, f) for f in PictureFilter.__struct_fields__})


class BadgesQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Grid tiles ask for a screenful at a time."""

    ids: Annotated[list[RowId], Meta(min_length=1, max_length=1000)]


class Count(msgspec.Struct):
    count: Id


class Ids(msgspec.Struct, forbid_unknown_fields=True):
    ids: IdList


class PicturePatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    rating: Annotated[int, Meta(ge=0, le=5)] | UnsetType = UNSET
    favourite: bool | UnsetType = UNSET
    flagged: bool | UnsetType = UNSET
    taken_at: Int64 | UnsetType = UNSET
    caption: Annotated[str, Meta(max_length=20000)] | UnsetType | None = UNSET
    # An engine's suggested caption (by its engine id) becomes the picture's caption.
    accept_caption: Annotated[str, Meta(min_length=1, max_length=200)] | UnsetType = UNSET
    add_tags: list[Name] = []
    remove_tags: list[Name] = []
    accept_predictions: list[Name] = []
    reject_predictions: list[Name] = []
    # Character tags a tagger proposed: accepted, and the picture filed under a character of that name.
    accept_as_characters: list[Name] = []
    # Turn, mirror, straighten, crop or revert the picture (its original untouched).
    edit: EditChange | UnsetType = UNSET
    # Keep it to yourself (True) or share it with the library (False): whoever brought it in, or an admin.
    private: bool | UnsetType = UNSET


class _BulkOp(msgspec.Struct, tag_field="action", forbid_unknown_fields=True):
    pass


class BulkRate(_BulkOp, tag="rate"):
    rating: Annotated[int, Meta(ge=0, le=5)]


class BulkFavourite(_BulkOp, tag="favourite"):
    value: bool


class BulkFlag(_BulkOp, tag="flag"):
    value: bool


class BulkTag(_BulkOp, tag="tag"):
    tags: Annotated[list[Name], Meta(min_length=1, max_length=1000)]


class BulkUntag(_BulkOp, tag="untag"):
    tags: Annotated[list[Name], Meta(min_length=1, max_length=1000)]


class BulkScrap(_BulkOp, tag="scrap"):
    pass


class BulkUnscrap(_BulkOp, tag="unscrap"):
    pass


class BulkEdit(_BulkOp, tag="edit"):
    """Turn, mirror, straighten, crop or revert every picture (videos are refused)."""

    change: EditChange


class BulkPrivate(_BulkOp, tag="private"):
    """Keep the pictures to whoever brought them in (True) or share them with the library (False)."""

    value: bool


class BulkAddToMine(_BulkOp, tag="add_to_my_library"):
    """Make the pictures your own ("Add to my library"): listed under My pictures, one copy of the bytes."""


class BulkAddToCollection(_BulkOp, tag="add_to_collection"):
    collection_id: Id


class BulkRemoveFromCollection(_BulkOp, tag="remove_from_collection"):
    collection_id: Id


class BulkAddToProject(_BulkOp, tag="add_to_project"):
    project_id: Id


class BulkRemoveFromProject(_BulkOp, tag="remove_from_project"):
    project_id: Id


BulkOperation = (
    BulkRate
    | BulkFavourite
    | BulkFlag
    | BulkTag
    | BulkUntag
    | BulkScrap
    | BulkUnscrap
    | BulkAddToCollection
    | BulkRemoveFromCollection
    | BulkAddToProject
    | BulkRemoveFromProject
    | BulkEdit
    | BulkPrivate
    | BulkAddToMine
)


class BulkRequest(msgspec.Struct, forbid_unknown_fields=True):
    """One operation on the pictures with these ids."""

    ids: IdList
    operation: BulkOperation


class BulkFilterRequest(msgspec.Struct, forbid_unknown_fields=True):
    """One operation on every picture a filter matches (at most 100,000)."""

    filter: PictureFilter
    operation: BulkOperation


class PruneRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Scrap the pictures of a view that a scorer ranks lowest: the ``lowest`` N, or those scored under
    ``below`` (both: the lowest N of those). ``dry_run`` only answers which they would be."""

    engine_id: EngineId
    filter: PictureFilter = PictureFilter()
    lowest: Annotated[int, Meta(ge=1, le=100_000)] | None = None
    below: Score | None = None
    dry_run: bool = False


class PruneResult(msgspec.Struct):
    picture_ids: list[int]  # lowest first (a dry run), or those moved to the scrapheap
    scores: list[float]  # theirs, in the same order
    dry_run: bool


class BulkResult(msgspec.Struct):
    action: str
    count: Id


class ProjectCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    description: Annotated[str, Meta(max_length=5000)] = ""
    color: Color | None = None
    private: bool = False  # seen (with its sets) only by you, admins and the people you give a role in it


class ProjectPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | None = None
    description: Annotated[str, Meta(max_length=5000)] | None = None
    color: Color | None = None
    # Keep it to yourself and those with a role in it (True), or share it with the library (False): whoever
    # made it, or an admin.
    private: bool | None = None


class CollectionCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    project_id: Id | None = None
    description: Annotated[str, Meta(max_length=5000)] = ""
    color: Color | None = None
    private: bool = False  # seen only by you, admins and the people you give a role in it


CollectionPatch = ProjectPatch


class MoveRequest(msgspec.Struct, forbid_unknown_fields=True):
    project_id: Id | None


class SetOperationRequest(msgspec.Struct, forbid_unknown_fields=True):
    collection_ids: Annotated[list[Id], Meta(min_length=1, max_length=100)]
    op: SetOp = "union"
    save_as: Name | None = None
    project_id: Id | None = None


class SetOperationResult(msgspec.Struct):
    op: str
    picture_ids: list[int]
    saved_collection_id: Id | None = None


class TagPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | None = None
    category: Literal["general", "character", "artist", "copyright", "rating", "meta", "style"] | None = None


class TagMerge(msgspec.Struct, forbid_unknown_fields=True):
    into: Id


class TagAlias(msgspec.Struct, forbid_unknown_fields=True):
    alias: Name


class TagsQuery(msgspec.Struct, forbid_unknown_fields=True):
    prefix: Annotated[str, Meta(max_length=200)] = ""
    category: str | None = None
    after: str | None = None
    limit: Annotated[int, Meta(ge=1, le=1000)] = 100


class ServerImportRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Import files, folders or zip archives that are on the server's own disk (admin only)."""

    paths: Annotated[list[Annotated[str, Meta(min_length=1, max_length=4096)]], Meta(min_length=1, max_length=1000)]
    project_id: Id | None = None
    collection_ids: list[Id] = []


class FolderCreate(msgspec.Struct, forbid_unknown_fields=True):
    kind: Literal["import", "reference"]
    path: Annotated[str, Meta(min_length=1, max_length=4096)]
    delete_after_import: bool = False
    write_sidecars: bool = False
    sidecar_format: Literal["tags", "caption"] = "tags"
    write_xmp: bool = False
    allow_purge: bool = False
    settle_seconds: Annotated[float, Meta(ge=0, le=3600)] = 2.0
    project_id: Id | None = None
    collection_ids: list[Id] = []
    scan: bool = True


class FolderChange(msgspec.Struct, forbid_unknown_fields=True):
    paused: bool | None = None  # not watched until resumed; refused while another running library watches it
    write_xmp: bool | None = None  # a reference folder's .xmp sidecars kept for photo software


_NO_CONTROLS = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f\x85\ufeff][^\x00-\x1f\x7f]*$"
Username = Annotated[str, Meta(min_length=1, max_length=100, pattern=_NO_CONTROLS)]


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Annotated[str, Meta(min_length=1, max_length=1024)]
    new_password: Annotated[str, Meta(min_length=8, max_length=1024)]


class PasswordChanged(msgspec.Struct):
    sessions_ended: int  # the other browser sessions, signed out


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: Username
    password: Annotated[str, Meta(min_length=1, max_length=1024)]


class LoginResult(msgspec.Struct):
    username: str
    csrf_token: str


class SetupRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: Username
    password: Annotated[str, Meta(min_length=8, max_length=1024)]


class Me(msgspec.Struct):
    kind: str
    scope: str
    username: str | None = None
    session_id: int | None = None  # a browser session's own id (its entry in GET /sessions)
    role: str | None = None  # owner, admin, member or viewer: the account the credentials act for
    user_id: int | None = None
    uploads_private: bool = False  # that account's uploads stay private to it unless it says otherwise
    accounts: int = 1  # how many people the library has (the UI offers "Mine" and "Shared with me" past one)
    quota_bytes: int | None = None  # how much the account may upload (None: no limit)
    uploaded_bytes: int = 0  # how much it has


class MeChange(msgspec.Struct, forbid_unknown_fields=True):
    uploads_private: bool


class AccountCreate(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, Meta(min_length=1, max_length=100, pattern=VISIBLE)]
    password: Annotated[str, Meta(min_length=8, max_length=1024)]
    role: Literal["admin", "member", "viewer"] = "member"


class AccountChange(msgspec.Struct, forbid_unknown_fields=True):
    role: Literal["admin", "member", "viewer"] | UnsetType = UNSET
    disabled: bool | UnsetType = UNSET
    quota_bytes: Annotated[int, Meta(ge=1, le=2**62)] | UnsetType | None = UNSET  # None: no limit


class InviteCreate(msgspec.Struct, forbid_unknown_fields=True):
    role: Literal["admin", "member", "viewer"] = "member"
    note: Annotated[str, Meta(max_length=200)] = ""  # who it is for
    expires_in_days: Annotated[float, Meta(gt=0, le=30)] = 7.0


class InviteCreated(msgspec.Struct):
    id: Id
    code: str  # shown once
    url: str  # the server's address with the code after "#invite=": a fragment never reaches a server's log
    role: str
    expires_at: int


class InviteAccept(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, Meta(min_length=1, max_length=200)]
    username: Annotated[str, Meta(min_length=1, max_length=100, pattern=VISIBLE)]
    password: Annotated[str, Meta(min_length=8, max_length=1024)]


class PasswordReset(msgspec.Struct, forbid_unknown_fields=True):
    password: Annotated[str, Meta(min_length=8, max_length=1024)]


class SessionStatus(msgspec.Struct):
    """What a browser needs before it shows anything: signed in, or which form to show."""

    signed_in: bool
    needs_setup: bool
    username: str | None = None


class TokenCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=100)] = "token"
    scope: Literal["read", "write", "admin"] = "read"
    expires_in_days: Annotated[float, Meta(gt=0, le=36_500)] | None = None


class TokenCreated(msgspec.Struct):
    id: Id
    token: str
    scope: str


class _ShareCreate(msgspec.Struct, tag_field="scope_type", forbid_unknown_fields=True, kw_only=True):
    title: Annotated[str, Meta(max_length=200)] = ""
    expires_in_days: Annotated[float, Meta(gt=0, le=36_500)] | None = None
    allow_original: bool = True
    include_metadata: bool = False
    edited_downloads: bool = False  # an edited picture's full-size download is its edited look
    watermark_text: Annotated[str, Meta(max_length=200)] | None = None
    watermark_picture_id: Id | None = None  # draw this library picture (a logo) instead of text
    watermark_opacity: Annotated[float, Meta(ge=0, le=1)] = 0.5
    watermark_position: Literal["bottom-right", "bottom-left", "top-right", "top-left", "center"] = "bottom-right"


class PictureShareCreate(_ShareCreate, tag="pictures"):
    picture_ids: Annotated[list[RowId], Meta(min_length=1, max_length=100_000)]


class SetShareCreate(_ShareCreate, tag="set"):
    scope_id: Id


class CharacterShareCreate(_ShareCreate, tag="character"):
    scope_id: Id


class ProjectShareCreate(_ShareCreate, tag="project"):
    scope_id: Id


ShareCreate = PictureShareCreate | SetShareCreate | CharacterShareCreate | ProjectShareCreate


class ShareCreated(msgspec.Struct):
    id: Id
    token: str
    url: str


class UpdateSettingsRequest(msgspec.Struct, forbid_unknown_fields=True):
    enabled: bool
    url: Annotated[str, Meta(max_length=2000)] | None = None


class Version(msgspec.Struct):
    version: str
    api: str = "v1"


class SetupStatus(msgspec.Struct):
    needs_setup: bool
    needs_code: bool = False  # from this address, setup needs the code the server printed in its log
