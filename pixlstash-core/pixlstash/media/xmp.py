"""XMP, read: what photo software (Lightroom Classic, darktable, digiKam, Capture One, Bridge) keeps in a
picture's XMP packet or in an ``.xmp`` sidecar beside it (``name.xmp`` as Lightroom writes it,
``name.ext.xmp`` as darktable does), and the generation data Draw Things and Midjourney keep there; merged with what a
JPEG's IPTC-IIM says (``iptc.py``).

Read with exiv2 (pyexiv2), the library digiKam and darktable write their XMP with, from the packet's bytes
alone: the file's other structures are Pillow's to parse. XML from a file is untrusted: a packet over
``MAX_XMP`` bytes is not read, and Adobe's XMP toolkit inside exiv2 refuses any DOCTYPE, so neither an
external entity nor an entity expansion is ever resolved. A packet that cannot be read is one note, never
a failed import."""

from __future__ import annotations

import contextlib
import threading
import xml.parsers.expat
from collections.abc import Mapping
from pathlib import Path

import msgspec
from PIL import Image

from ..domain import Generation, PhotoMetadata
from .exif import place
from .facts import MediaAnalysis
from .generators.drawthings import draw_things
from .generators.fields import number, string, text
from .generators.midjourney import midjourney
from .iptc import iptc_metadata
from .raw_exif import raw_xmp
from .xmp_people import people_in

__all__ = [
    "MAX_XMP",
    "embedded_xmp",
    "exiv2_session",
    "photo_metadata",
    "read_photo_metadata",
    "read_xmp",
    "sidecar_stamp",
    "sidecar_to_write",
    "sidecar_xmp",
    "xmp_of",
]

MAX_XMP = 4 << 20  # a real packet is a few KB: this leaves room for a long edit history
_PACKET_START = b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
_PACKET_END = b'<?xpacket end="w"?>'
_exiv2 = None
_exiv2_lock = threading.Lock()


@contextlib.contextmanager
def exiv2_session():
    """exiv2 (pyexiv2), one caller at a time: its XMP toolkit keeps global state. Loaded when first used
    (a native library: the CLI's start never pays for it)."""
    global _exiv2
    with _exiv2_lock:
        if _exiv2 is None:
            import pyexiv2

            pyexiv2.set_log_level(4)  # its warnings would go to stderr; a packet it cannot read is our note
            _exiv2 = pyexiv2
        yield _exiv2


def embedded_xmp(info: Mapping[str, object]) -> bytes | None:
    """The XMP packet Pillow found in an image (JPEG's APP1 and WebP's chunk as ``xmp``, PNG's iTXt as
    ``XML:com.adobe.xmp``, TIFF's tag 700 as ``xmp``)."""
    for key in ("xmp", "XML:com.adobe.xmp"):
        value = info.get(key)
        if isinstance(value, str):
            value = value.encode("utf-8", "replace")
        if isinstance(value, bytes) and value.strip():
            return value
    return None


def _sidecars(path: Path) -> tuple[Path, Path]:
    """Where a picture's sidecar may be: ``name.ext.xmp`` first, as darktable writes it, then ``name.xmp``."""
    return path.with_name(path.name + ".xmp"), path.with_suffix(".xmp")


def sidecar_to_write(path: Path) -> Path | None:
    """Where to write the picture's sidecar: the one beside it that photo software made (``name.ext.xmp``
    or ``name.xmp``), else a new ``name.ext.xmp``; None when one of them is a link (never written through)."""
    candidates = _sidecars(path)
    if any(candidate.is_symlink() for candidate in candidates):
        return None
    return next((candidate for candidate in candidates if candidate.is_file()), candidates[0])


def sidecar_stamp(path: Path) -> int | None:
    """The modified time (ns) of the sidecar beside ``path`` that would be read, or None: a rescan reads
    the sidecar again when this changes."""
    for candidate in _sidecars(path):
        try:
            return candidate.stat().st_mtime_ns
        except OSError:
            continue
    return None


def sidecar_xmp(path: Path, notes: list[str]) -> bytes | None:
    """The ``.xmp`` sidecar beside ``path``: a regular file in the same folder (a link out of the folder is
    refused), within size."""
    for candidate in _sidecars(path):
        try:
            if candidate.is_symlink() and candidate.resolve().parent != path.resolve().parent:
                notes.append(f"its sidecar {candidate.name} is a link out of its folder: not read")
                continue
            if not candidate.is_file():
                continue
            size = candidate.stat().st_size
            if size > MAX_XMP:
                notes.append(f"its sidecar {candidate.name} is {size:,} bytes (over {MAX_XMP:,}): not read")
                continue
            with open(candidate, "rb") as sidecar:
                return sidecar.read(MAX_XMP + 1)
        except OSError as error:
            notes.append(f"its sidecar {candidate.name} could not be read: {error.strerror or error}")
    return None


def read_xmp(packet: bytes | None, notes: list[str], what: str = "its XMP") -> dict[str, object]:
    """The properties of an XMP packet, by exiv2's keys (``Xmp.dc.subject``); empty when there is none
    or it cannot be read (then a note says so)."""
    if not packet:
        return {}
    if len(packet) > MAX_XMP:
        notes.append(f"{what} is {len(packet):,} bytes (over {MAX_XMP:,}): not read")
        return {}
    body = packet.lstrip(b"\xef\xbb\xbf \t\r\n\0")
    if not body.startswith((b"<?xpacket", b"<?xml")):  # a bare x:xmpmeta, as some writers embed it
        body = _PACKET_START + body + _PACKET_END
    try:
        with exiv2_session() as exiv2, exiv2.ImageData(body) as data:
            found = data.read_xmp()
    except Exception as error:  # exiv2 says what it refused in its own words; all are one note
        notes.append(f"{what} could not be read: {str(error).splitlines()[0][:200]}")
        return {}
    if not found and not _well_formed(body):  # exiv2 gives a broken packet no properties, and no error
        notes.append(f"{what} could not be read: it is not well-formed XML")
    return found if isinstance(found, dict) else {}


def _well_formed(body: bytes) -> bool:
    """Whether ``body`` is well-formed XML without a DOCTYPE (expat, entities never declared)."""
    parser = xml.parsers.expat.ParserCreate()

    def refuse(*_args: object) -> None:
        raise ValueError("a DOCTYPE")

    parser.StartDoctypeDeclHandler = refuse
    try:
        parser.Parse(body, True)
    except (xml.parsers.expat.ExpatError, ValueError):
        return False
    return True


def _text(value: object) -> str | None:
    """A text property: plain, or a language alternative (the default language first)."""
    if isinstance(value, dict):
        value = value.get('lang="x-default"') or next(iter(value.values()), None)
    return string(value.strip()) if isinstance(value, str) and value.strip() else None


def _list(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value] if isinstance(value, str) else []
    return [item.strip() for item in items if isinstance(item, str) and item.strip()]


def _keywords(xmp: Mapping[str, object]) -> list[str]:
    """Hierarchical keywords as ``parent/child`` (Lightroom's ``|``, digiKam's ``/``), then each flat
    keyword that is not already a level of one of them (Lightroom also writes every level flat)."""
    paths = [kw.replace("|", "/") for kw in _list(xmp.get("Xmp.lr.hierarchicalSubject"))]
    paths += _list(xmp.get("Xmp.digiKam.TagsList"))
    levels = {level.strip() for path in paths for level in path.split("/")}
    keywords = [path for path in dict.fromkeys(paths) if path.strip("/")]
    keywords += [kw for kw in dict.fromkeys(_list(xmp.get("Xmp.dc.subject"))) if kw not in levels]
    return [kw[:200] for kw in keywords][:1000]


def _source_type(value: object) -> str | None:
    """IPTC's digital source type, its term alone (the property holds the term's whole URI)."""
    uri = _text(value)
    term = uri.rstrip("/").rsplit("/", 1)[-1] if uri else ""
    return term[:100] if term.isalnum() else None


def photo_metadata(xmp: Mapping[str, object]) -> PhotoMetadata | None:
    """What photo software said of the picture, or None when it said nothing."""
    rating = number(xmp.get("Xmp.xmp.Rating"), float)
    label = _text(xmp.get("Xmp.xmp.Label"))
    found = PhotoMetadata(
        keywords=_keywords(xmp),
        rating=int(rating) if rating is not None and 1 <= rating <= 5 else None,
        rejected=rating is not None and rating < 0,
        label=label[:100] if label else None,
        title=_text(xmp.get("Xmp.dc.title")),
        description=_text(xmp.get("Xmp.dc.description")),
        digital_source_type=_source_type(xmp.get("Xmp.iptcExt.DigitalSourceType")),
        people=people_in(xmp),
    )
    return found if found != PhotoMetadata() else None


def _coordinate(value: object, negative: str, limit: float) -> float | None:
    """XMP's GPS coordinate, ``DDD,MM,SSk`` or ``DDD,MM.mmk`` (k: N, S, E or W), as signed degrees."""
    coordinate = _text(value)
    if not coordinate or len(coordinate) > 40 or coordinate[-1].upper() not in "NSEW":
        return None
    parts = [number(part, float) for part in coordinate[:-1].split(",")]
    if not 2 <= len(parts) <= 3 or any(p is None or not 0 <= p < 1e4 for p in parts):
        return None
    degrees, minutes, seconds = (*parts, 0.0) if len(parts) == 2 else parts
    if minutes >= 60 or seconds >= 60 or degrees + minutes / 60 + seconds / 3600 > limit:  # type: ignore[operator]
        return None
    signed = degrees + minutes / 60 + seconds / 3600  # type: ignore[operator]
    return round(-signed if coordinate[-1].upper() == negative else signed, 7)


def _xmp_place(xmp: Mapping[str, object]) -> dict[str, float]:
    """Where the XMP says the picture was taken (the ``exif:GPS*`` properties Lightroom and digiKam write
    when a person places a picture on their map)."""
    altitude = _text(xmp.get("Xmp.exif.GPSAltitude"))
    metres = None
    if altitude and altitude.count("/") == 1:
        top, bottom = (number(part, float) for part in altitude.split("/"))
        metres = top / bottom if top is not None and bottom else None
    if metres is not None and _text(xmp.get("Xmp.exif.GPSAltitudeRef")) == "1":
        metres = -metres
    latitude = _coordinate(xmp.get("Xmp.exif.GPSLatitude"), "S", 90)
    return place(latitude, _coordinate(xmp.get("Xmp.exif.GPSLongitude"), "W", 180), metres)


def xmp_of(path: Path | None, info: Mapping[str, object], notes: list[str]) -> dict[str, object]:
    """The picture's XMP: its embedded packet, with a sidecar's properties over it (the sidecar is what
    the photo software wrote last; for a RAW it is the only one)."""
    found = read_xmp(embedded_xmp(info), notes)
    if path is not None:
        found = {**found, **read_xmp(sidecar_xmp(path, notes), notes, "its XMP sidecar")}
    return found


def read_photo_metadata(
    path: Path | None,
    image: Image.Image | None,
    analysis: MediaAnalysis,
    embedded: Mapping[str, object] | None = None,
) -> None:
    """The picture's XMP and IPTC-IIM into ``analysis``: what photo software said of it (XMP's word first,
    IIM's where XMP is silent, keywords from both), the place it gives, and Draw Things' or Midjourney's
    generation data where no other generator's was found. ``embedded`` stands for ``image.info`` where
    no image was opened (a RAW's own packet)."""
    info = image.info if image is not None else embedded or {}
    if image is not None and image.format == "JXL" and path is not None and embedded_xmp(info) is None:
        packet = raw_xmp(path, MAX_XMP + 1)  # the JPEG XL plugin keeps only the Exif box
        info = {**info, "xmp": packet} if packet else info
    xmp = xmp_of(path, info, analysis.notes)
    described = photo_metadata(xmp) if xmp else None
    iim = iptc_metadata(image) if image is not None and image.format == "JPEG" else None
    if described is not None and iim is not None:
        described = msgspec.structs.replace(
            described,
            keywords=list(dict.fromkeys([*described.keywords, *iim.keywords])),
            title=described.title or iim.title,
            description=described.description or iim.description,
        )
    if xmp and (where := _xmp_place(xmp)):  # the photo software's place over the camera's
        kept = {k: v for k, v in analysis.exif.items() if not k.startswith("gps_")}
        analysis.exif = {**kept, **where}
    if analysis.generation is None:
        analysis.generation = _generation(info, xmp)
    if described is not None and analysis.generation is not None and analysis.generation.tool == "midjourney":
        described = msgspec.structs.replace(described, description=None)  # the command, not a caption
    analysis.photo = described or iim


def _generation(info: Mapping[str, object], xmp: Mapping[str, object]) -> Generation | None:
    """Draw Things' data (XMP UserComment), or Midjourney's command (a PNG's Description chunk, else the
    XMP's description) with its account (``Author``, else ``dc:creator``)."""
    if xmp and (found := draw_things(_text(xmp.get("Xmp.xmp.CreatorTool")), _text(xmp.get("Xmp.exif.UserComment")))):
        return found
    creators = _list(xmp.get("Xmp.dc.creator"))
    return midjourney(
        text(info.get("Description")) or _text(xmp.get("Xmp.dc.description")),
        text(info.get("Author")) or (creators[0] if creators else None),
    )
