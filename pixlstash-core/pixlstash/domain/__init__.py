"""The library's domain types. Plain msgspec Structs: the core, the CLI and the web API share them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from .enrichment import (  # re-exported: the enrichment types live there
    ClusterProgress,
    EngineProgress,
    EnrichmentSettings,
    Job,
    JobItemError,
    JobState,
    PeopleSettings,
    PreviewProgress,
    PreviewSettings,
    RaySettings,
)
from .looks import EditChange, PictureChange, PictureEdit  # re-exported: the edit types live there
from .metadata import (  # re-exported: what a picture's files say about it lives there
    AI_SOURCE_TYPES,
    ContentCredentials,
    Generation,
    Lora,
    PersonRegion,
    PhotoMetadata,
)

__all__ = [
    "AI_SOURCE_TYPES",
    "OWN_CAPTION_SOURCES",
    "Breadcrumb",
    "Caption",
    "CharacterFace",
    "ClusterProgress",
    "Collection",
    "CollectionKind",
    "ComfyLink",
    "ComfyRun",
    "ContentCredentials",
    "DuplicateGroup",
    "EditChange",
    "EngineProgress",
    "EnrichmentSettings",
    "FaceCluster",
    "FaceHit",
    "Folder",
    "FolderOptions",
    "Generation",
    "History",
    "HistoryStep",
    "ImportReport",
    "ImportSkip",
    "ImportedPicture",
    "Job",
    "JobItemError",
    "JobState",
    "Lora",
    "MediaType",
    "NamedPerson",
    "Page",
    "PeopleSettings",
    "PersonRegion",
    "PhotoMetadata",
    "Picture",
    "PictureBadges",
    "PictureChange",
    "PictureEdit",
    "PictureFilter",
    "PictureScore",
    "PictureSummary",
    "PictureTag",
    "PictureText",
    "Prediction",
    "PreviewProgress",
    "PreviewSettings",
    "Project",
    "RaySettings",
    "SearchHit",
    "SearchResult",
    "SetOp",
    "Sort",
    "SortKey",
    "Stack",
    "Statistics",
    "Tag",
    "TextRun",
]

MediaType = Literal["image", "video"]
CollectionKind = Literal["character", "set"]
SetOp = Literal["union", "overlap", "difference", "unique"]
# A column, or "score:<engine id>": that scorer's score (pictures it has not scored come last).
SORT_COLUMNS = ("taken_at", "imported_at", "rating", "file_size", "pixels", "random")
ENGINE_ID = r"[a-z0-9][a-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.@+-]*"
SortKey = Annotated[str, Meta(max_length=220, pattern=rf"^(?:{'|'.join(SORT_COLUMNS)}|score:{ENGINE_ID})$")]
EngineId = Annotated[str, Meta(max_length=200, pattern=rf"^{ENGINE_ID}$")]
Score = Annotated[float, Meta(ge=-1e12, le=1e12)]  # finite: NaN and infinities are refused
# Visible text: at least one character that is whitespace neither to Python nor to JSON Schema (ECMA) regexes.
VISIBLE = r"[^\s\x1c-\x1f\x85\ufeff]"
TagName = Annotated[str, Meta(min_length=1, max_length=200, pattern=VISIBLE)]
Int64 = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)]  # what SQLite stores; anything larger is refused
Id = Annotated[int, Meta(ge=0, le=2**63 - 1)]
ModelName = Annotated[str, Meta(min_length=1, max_length=200)]  # a checkpoint, LoRA, sampler, ...


class Tag(msgspec.Struct, frozen=True):
    id: int
    name: str
    category: str
    picture_count: int
    aliases: list[str] = []


class PictureTag(msgspec.Struct, frozen=True):
    """A tag on a picture, with who put it there (``user`` or an engine id) and how sure it was."""

    name: str
    category: str
    source: str = "user"
    confidence: float | None = None


class Prediction(msgspec.Struct, frozen=True):
    """An engine's suggested tag, kept apart from the picture's tags until accepted or rejected."""

    name: str
    category: str
    engine_id: str
    engine_version: str
    confidence: float
    state: Literal["pending", "rejected"] = "pending"


# The caption sources that are the picture's own words, not a suggestion: a person's, a reference folder's
# .txt sidecar, photo software's XMP description.
OWN_CAPTION_SOURCES = ("user", "sidecar", "xmp")


class Caption(msgspec.Struct, frozen=True):
    """A picture's caption from one source: ``user`` (written or accepted by a person: the caption),
    ``sidecar`` (read from a reference folder's .txt file), ``xmp`` (photo software's description or title)
    or an engine id (a suggestion until accepted)."""

    source: str
    text: str
    engine_version: str | None = None
    created_at: int = 0
    parameters: dict[str, Any] | None = None  # what the engine was asked (caption type, length, ...)


class PictureScore(msgspec.Struct, frozen=True):
    """One scorer's number for a picture, with the engine version that gave it."""

    engine_id: str
    value: float
    engine_version: str
    created_at: int


class TextRun(msgspec.Struct, frozen=True):
    """A run of text read in a picture, with its four corners (x0, y0, ... x3, y3) in the original's pixels."""

    text: str
    quad: list[float]


class PictureText(msgspec.Struct, frozen=True):
    """The text an OCR engine read in a picture ("" and no runs: it holds none)."""

    engine_id: str
    text: str
    runs: list[TextRun]
    engine_version: str
    created_at: int


class PictureSummary(msgspec.Struct, frozen=True):
    """What a grid needs to paint one cell, first; details come later."""

    id: int
    content_hash: str
    media_type: MediaType
    width: int
    height: int
    rating: int
    taken_at: int
    imported_at: int
    file_size: int
    favourite: bool = False
    flagged: bool = False
    missing: bool = False
    deleted_at: int | None = None
    stack_id: int | None = None
    stack_size: int = 0  # pictures in its stack, itself included (0: in none)
    original_name: str = ""  # its file's name, for a caption or a title
    duration: float | None = None  # a video's seconds (shown on its tile)
    score: float | None = None  # under a score sort: the picture's score (None: not scored)
    # width and height above are as shown: after the edit, when there is one
    edit: PictureEdit | None = None
    edit_key: str = ""  # names the edit's thumbnails (their URLs take ?edit=KEY)


class Stack(msgspec.Struct, frozen=True):
    """Variants grouped under a cover: a run's outputs on their source, near-duplicates, a manual pick."""

    id: int
    cover_id: int
    member_ids: list[int]  # the cover first
    origin: str  # manual, run or duplicates
    created_at: int


class ComfyLink(msgspec.Struct, frozen=True):
    """A ComfyUI the library runs workflows on."""

    id: int
    url: str
    created_at: int
    token_id: int | None = None  # the PixlStash token made for its node pack


class ComfyRun(msgspec.Struct, frozen=True):
    """A workflow sent to a linked ComfyUI: a remix of a picture's graph, or a workflow run on a picture."""

    id: int
    kind: str  # remix or run
    status: str  # queued, running, done, failed or cancelled
    created_at: int
    link_id: int | None = None
    source_id: int | None = None
    prompt_id: str | None = None
    message: str = ""
    output_ids: list[int] = []
    finished_at: int | None = None


class PictureBadges(msgspec.Struct, frozen=True):
    """What a grid tile shows once its thumbnail is painted: a few tags and counts (fetched in batches)."""

    id: int
    tags: list[str]  # a few names (three by default), the most distinctive (rarest in the library) first
    tag_count: int
    suggestion_count: int  # engine predictions waiting to be accepted or rejected
    face_count: int
    named_face_count: int  # faces assigned to a character
    has_caption: bool


class PictureFace(msgspec.Struct, frozen=True):
    """A detected face on a picture: box in the original's pixels, and the character it was assigned to."""

    id: int
    box: tuple[float, float, float, float]
    score: float
    engine_id: str
    character_id: int | None = None
    frame: int = 0  # a video's frame it was found on: 0 is the poster
    frame_seconds: float | None = None
    # the box on the picture as shown (after its edit); None when the edit's crop leaves the face out
    shown_box: tuple[float, float, float, float] | None = None


class Picture(msgspec.Struct, frozen=True):
    """Everything known about one picture."""

    id: int
    content_hash: str
    suffix: str
    media_type: MediaType
    mime: str
    file_size: int
    width: int
    height: int
    taken_at: int
    imported_at: int
    rating: int
    favourite: bool
    flagged: bool
    original_name: str
    managed: bool
    missing: bool
    duration: float | None = None
    codec: str | None = None
    camera: str | None = None
    orientation: int | None = None
    exif: dict[str, Any] = {}
    phash: str | None = None
    dup_group: int | None = None
    source_id: int | None = None
    deleted_at: int | None = None
    # where taken_at came from: exif, embedded (a PNG's Creation Time), file (its modified time), import,
    # hand; None for pictures imported before it was kept
    taken_from: str | None = None
    digital_source_type: str | None = None  # IPTC's, as its XMP or C2PA said ("trainedAlgorithmicMedia": AI)
    credentials: ContentCredentials | None = None  # its C2PA manifest, as verified at import
    owner_id: int | None = None  # the account that brought it in (None: the library's owner, before accounts)
    private: bool = False  # seen only by the accounts holding it, and administrators
    owner_name: str | None = None  # that account's name, where the accounts are known (the web API)
    mine: bool = False  # among the own pictures of the account asking ("My pictures")
    tags: list[PictureTag] = []
    predictions: list[Prediction] = []
    captions: list[Caption] = []
    generation: Generation | None = None
    collections: list[int] = []
    projects: list[int] = []
    locations: list[str] = []
    faces: list[PictureFace] = []
    scores: list[PictureScore] = []
    text: PictureText | None = None  # the text read in it (OCR), once read
    # width and height above are as shown (after the edit); these are the upright original's
    original_width: int = 0
    original_height: int = 0
    edit: PictureEdit | None = None
    edit_key: str = ""


class Project(msgspec.Struct, frozen=True):
    id: int
    name: str
    description: str
    color: str
    created_at: int
    picture_count: int = 0
    private: bool = False  # seen only by the account that made it, admins, and those with a role in it
    owner_id: int | None = None  # the account that made it (None: the library's owner)
    role: str | None = None  # the caller's role in it: viewer, contributor, curator, or none


class Collection(msgspec.Struct, frozen=True):
    """A character or a picture set, optionally inside a project."""

    id: int
    kind: CollectionKind
    name: str
    project_id: int | None
    description: str
    color: str
    member_count: int
    created_at: int
    curated: bool = False  # it has a curator: others submit pictures to it, its curators accept them
    role: str | None = None  # the caller's role in it: viewer, contributor, curator, or none
    private: bool = False  # seen only by the account that made it, admins, and those with a role in it
    owner_id: int | None = None  # the account that made it (None: the library's owner)


class Breadcrumb(msgspec.Struct, frozen=True):
    kind: Literal["library", "project", "character", "set"]
    id: int | None
    name: str


class FolderOptions(msgspec.Struct, frozen=True, omit_defaults=True):
    """Per-folder behaviour. Import folders copy files in; reference folders index them in place."""

    delete_after_import: bool = False  # import folders: remove the file once it is safely stored
    write_sidecars: bool = False  # reference folders: write tags/captions back to .txt files
    sidecar_format: Literal["tags", "caption"] = "tags"  # what a .txt sidecar holds
    # reference folders: keep an .xmp sidecar beside each picture saying its tags, stars, caption and
    # people (media/xmp_sidecar.py), for the photo software that shares the folder
    write_xmp: bool = False
    allow_purge: bool = False  # reference folders: a purge may delete the file itself
    settle_seconds: float = 2.0  # import folders: a file must be unchanged this long
    project_id: int | None = None  # add imported pictures to this project ...
    collection_ids: list[int] = []  # ... and these sets/characters
    paused: bool = False  # not watched until resumed (a restored library's folders start so)


class Folder(msgspec.Struct, frozen=True):
    id: int
    kind: Literal["import", "reference"]
    path: str
    options: FolderOptions
    source_id: int
    last_scan_at: int | None
    created_at: int
    picture_count: int = 0


class ImportedPicture(msgspec.Struct, frozen=True, omit_defaults=True):
    path: str
    picture_id: int
    notes: list[str] = []  # what was imported but not read (a ComfyUI graph too large, say)


class ImportSkip(msgspec.Struct, frozen=True):
    path: str
    reason: str


class ImportReport(msgspec.Struct):
    """What an import did: each input is exactly one of imported, duplicate or skipped (with a reason)."""

    imported: list[ImportedPicture] = []
    duplicates: list[ImportedPicture] = []
    skipped: list[ImportSkip] = []
    restored: list[ImportedPicture] = []  # duplicates of scrapped pictures, brought back from the scrapheap
    seconds: float = 0.0

    def merge(self, other: ImportReport) -> None:
        self.imported.extend(other.imported)
        self.duplicates.extend(other.duplicates)
        self.skipped.extend(other.skipped)
        self.restored.extend(other.restored)


class PictureFilter(msgspec.Struct, frozen=True, omit_defaults=True, forbid_unknown_fields=True):
    """Which pictures a query covers. Empty means the whole (live) library."""

    tags: list[TagName] = []  # must carry all of these
    any_tags: list[TagName] = []  # must carry at least one of these
    not_tags: list[TagName] = []  # must carry none of these
    rating_min: Int64 | None = None
    rating_max: Int64 | None = None  # rated 1 to N stars: unrated pictures are not (unless unrated=True)
    unrated: bool | None = None  # True: only unrated ones (with rating_max: those as well); False: rated ones
    favourite: bool | None = None
    flagged: bool | None = None
    project: Int64 | None = None
    collections: list[Id] = []  # sets and characters, combined with collection_op
    collection_op: SetOp = "union"
    media_type: MediaType | None = None
    taken_after: Int64 | None = None  # unix ms, inclusive
    taken_before: Int64 | None = None  # unix ms, exclusive
    imported_after: Int64 | None = None
    imported_before: Int64 | None = None
    min_width: Int64 | None = None
    min_height: Int64 | None = None
    max_width: Int64 | None = None
    max_height: Int64 | None = None
    source: Int64 | None = None  # import source id
    folder: Int64 | None = None  # reference or import folder id
    duplicates: bool | None = None  # only pictures with (or without) near-duplicates
    missing: bool | None = None
    faces: bool | None = None  # only pictures with (or without) detected faces
    min_faces: Int64 | None = None  # at least this many faces
    max_faces: Int64 | None = None
    unnamed_faces: bool | None = None  # with a face no character names (or every face named)
    text: str | None = None  # full text over captions, prompts, generation data and names
    # The same words over only what a share with metadata shows (generation data, captions, tag names; no
    # file names, text read in the pictures, or names of sets and projects): what ``text`` becomes in a share.
    shown_text: str | None = None
    # Generation data: LoRA and checkpoint names match as case-insensitive parts ("detail" finds
    # "add_detail_v2.safetensors"); every LoRA listed must be there. Seed, sampler, scheduler and steps match
    # exactly (sampler and scheduler ignoring case).
    loras: list[ModelName] = []
    checkpoint: ModelName | None = None
    generation_seed: Annotated[str, Meta(pattern=r"^-?[0-9]{1,40}$")] | None = None  # ("seed" orders random)
    sampler: ModelName | None = None
    scheduler: ModelName | None = None
    steps: Int64 | None = None
    ids: list[Id] | None = None  # restrict to these (a selection, a share scope)
    # Many people in one library: True, only the pictures the account asking brought in ("Mine"); False, only
    # the others' it may see ("Shared with me"). ``private``: only private (True) or shared (False) ones.
    mine: bool | None = None
    private: bool | None = None
    scrapheap: bool = False  # the scrapheap instead of the live library
    # A stack counts as its members; stack_covers=True keeps one picture per stack, its cover (the grid).
    stack_covers: bool = False
    stack: Id | None = None  # only the members of this stack
    # Scores: pictures the scorer ``score_engine`` gave at least ``score_min`` and less than ``score_max``
    # (either may be left out; with neither, every picture it scored).
    score_engine: EngineId | None = None
    score_min: Score | None = None
    score_max: Score | None = None
    # The text read in pictures (OCR): True, those with text; False, those read and found without any
    # (pictures not read yet are neither).
    has_text: bool | None = None
    # Made by generative AI: generation data, or an IPTC digital source type that says so (True); neither
    # (False).
    ai_generated: bool | None = None
    # Content Credentials: "trusted" (verify, signer on the trust list), "valid" (verify: trusted or not),
    # "invalid" (do not verify), "none" (no manifest).
    c2pa: Literal["trusted", "valid", "invalid", "none"] | None = None


class Sort(msgspec.Struct, frozen=True, omit_defaults=True, forbid_unknown_fields=True):
    key: SortKey = "taken_at"
    descending: bool = True
    seed: Int64 = 0  # random sort: the same seed gives the same order


class Page(msgspec.Struct, frozen=True):
    items: list[PictureSummary]
    next_cursor: str | None


class DuplicateGroup(msgspec.Struct, frozen=True):
    group: int
    picture_ids: list[int]


class HistoryStep(msgspec.Struct, frozen=True):
    """One step of the undo history: an edit a person made (a bulk one counts once)."""

    id: int
    label: str  # what it did, in words: "Rate 300 pictures ★★★"
    count: int  # pictures (or faces, names) it touched
    created_at: int  # unix ms
    undone: bool  # undone, and can be redone


class History(msgspec.Struct, frozen=True):
    steps: list[HistoryStep]  # newest first
    can_undo: bool
    can_redo: bool


class Statistics(msgspec.Struct, frozen=True):
    count: int
    total_bytes: int
    rating: dict[int, int]  # rating -> pictures (0: unrated)
    tags: list[dict[str, Any]]  # name, category, count, confidence (10 deciles + 'none')
    file_size: list[dict[str, Any]]  # bucket upper bound (bytes) -> count
    resolution: list[dict[str, Any]]  # bucket upper bound (megapixels) -> count
    media_type: dict[str, int] = {}
    scores: list[dict[str, Any]] = []  # per scorer: engine_id, count, low, high, 10 equal buckets


# -- search results ---------------------------------------------------------------------------------


class SearchHit(msgspec.Struct, frozen=True):
    picture: PictureSummary
    similarity: float


class FaceCluster(msgspec.Struct, frozen=True):
    """An unnamed person: faces of one engine grouped by likeness, named by its lowest face id."""

    cluster_id: int
    engine_id: str
    faces: int
    pictures: int
    cover_face_id: int  # the most confident face
    cover_picture_id: int


class NamedPerson(msgspec.Struct, frozen=True):
    """A character seen as a person: how many faces name it and the face that best shows it."""

    character_id: int
    name: str
    pictures: int  # members of the character, with or without a named face
    faces: int
    automatic: int  # of those faces, how many were named automatically
    cover_face_id: int | None  # the most confident named face; None before any face is named
    cover_picture_id: int | None


class CharacterFace(msgspec.Struct, frozen=True):
    """A face named as a character, for the character's page."""

    face_id: int
    picture_id: int
    score: float
    automatic: bool
    frame_seconds: float | None = None


class CharacterGuess(msgspec.Struct, frozen=True):
    """A character an unnamed face on a picture looks like: its named faces of the same engine are alike
    at or above the engine's threshold for one person (CCIP's own for anime characters)."""

    face_id: int
    character_id: int
    name: str
    likeness: float
    engine_id: str


class FaceHit(msgspec.Struct, frozen=True):
    face_id: int
    picture: PictureSummary
    similarity: float
    box: tuple[float, float, float, float]


class SearchResult(msgspec.Struct, frozen=True):
    engine_id: str
    hits: list[SearchHit]
    exact: bool = False  # scored over every stored vector: the index was being rebuilt
