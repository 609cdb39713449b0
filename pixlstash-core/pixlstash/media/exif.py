"""The EXIF fields PixlStash keeps: when, with what camera, orientation, exposure, and where (GPS)."""

from __future__ import annotations

import datetime as dt
import email.utils
import math

from PIL import Image

__all__ = ["ExifInfo", "place", "png_creation_time", "read_exif"]

_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_USER_COMMENT, _MAKER_NOTE = 0x9286, 0x927C
_TAGS_MAIN = {0x010F: "make", 0x0110: "model", 0x0112: "orientation", 0x0132: "datetime", 0x0131: "software"}
_TAGS_EXIF = {
    0x9003: "datetime_original",
    0x9011: "offset_original",
    0x829A: "exposure_time",
    0x829D: "f_number",
    0x8827: "iso",
    0x920A: "focal_length",
    0xA434: "lens_model",
    0x9286: "user_comment",
}


class ExifInfo:
    """Plain values pulled out of EXIF; ``fields`` is what is stored as JSON."""

    __slots__ = ("camera", "fields", "generator_scheme", "orientation", "taken_at_ms", "user_comment")

    def __init__(self) -> None:
        self.fields: dict[str, object] = {}
        self.camera: str | None = None
        self.orientation: int | None = None
        self.taken_at_ms: int | None = None
        self.user_comment: str | None = None
        self.generator_scheme: str | None = None  # Fooocus names its metadata scheme in MakerNote


def _plain(value: object) -> object:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip("\x00 ")
    if isinstance(value, str):
        return value.strip("\x00 ")
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int | float) for v in value):
        return value[0] / value[1] if value[1] else None  # a rational as (numerator, denominator)
    try:
        return float(value) if not isinstance(value, int) else value  # IFDRational -> float
    except (TypeError, ValueError, ZeroDivisionError):
        return str(value)


# The character codes EXIF puts before a UserComment's text. Some tools (Fooocus, through Pillow) write the
# text with none, so a comment without one of these is text from its first byte.
_COMMENT_CODES = (b"ASCII\x00\x00\x00", b"UNICODE\x00", b"JIS\x00\x00\x00\x00\x00", b"\x00" * 8)


def _decode_user_comment(raw: object) -> str | None:
    if isinstance(raw, str):
        return raw.strip("\x00 ") or None
    if not isinstance(raw, bytes) or not raw:
        return None
    if not raw.startswith(_COMMENT_CODES):
        return raw.decode("utf-8", "replace").strip("\x00 ") or None
    prefix, body = raw[:8], raw[8:]
    if prefix.startswith(b"UNICODE"):
        # A1111 writes UTF-16 big-endian; some tools write little-endian. Pick the one that decodes sanely.
        for codec in ("utf-16-be", "utf-16-le"):
            text = body.decode(codec, "replace")
            if (text and text.isprintable()) or "\n" in text:
                return text.strip("\x00 ")
        return None
    return body.decode("utf-8", "replace").strip("\x00 ") or None


def _parse_time(value: object, offset: object) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.strptime(value.strip()[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    tz = dt.UTC
    if isinstance(offset, str) and len(offset) >= 6 and offset[0] in "+-":
        try:
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            sign = 1 if offset[0] == "+" else -1
            tz = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
        except ValueError:
            pass
    return int(moment.replace(tzinfo=tz).timestamp() * 1000)


def _degrees(value: object, ref: object, negative: str, limit: float) -> float | None:
    """An EXIF GPS coordinate (degrees, minutes, seconds as rationals) as signed decimal degrees."""
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    try:
        parts = [float(part) for part in value]  # type: ignore[union-attr]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if len(parts) != 3 or not all(math.isfinite(p) and p >= 0 for p in parts) or max(parts[1:]) >= 60:
        return None
    degrees = parts[0] + parts[1] / 60 + parts[2] / 3600
    if degrees > limit:
        return None
    return round(-degrees if str(ref).strip().upper() == negative else degrees, 7)


def place(latitude: float | None, longitude: float | None, altitude: float | None = None) -> dict[str, float]:
    """Where a picture was taken, as the fields kept with its EXIF (``gps_latitude``, ``gps_longitude``,
    ``gps_altitude`` in metres); empty without both coordinates, or at 0, 0 (a camera's "no fix")."""
    if latitude is None or longitude is None or (latitude == 0 and longitude == 0):
        return {}
    found = {"gps_latitude": latitude, "gps_longitude": longitude}
    if altitude is not None and math.isfinite(altitude) and abs(altitude) < 100_000:
        found["gps_altitude"] = round(altitude, 1)
    return found


def _gps(ifd: dict) -> dict[str, float]:
    """The GPS IFD's position (tags 1-6), unless the receiver marked it void (GPSStatus "V")."""
    status = ifd.get(9)
    if (status.decode("ascii", "replace") if isinstance(status, bytes) else str(status or "")).strip() == "V":
        return {}
    altitude = ifd.get(6)
    try:
        metres = float(altitude) if altitude is not None else None  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError):
        metres = None
    if metres is not None and ifd.get(5) in (1, b"\x01"):  # below sea level
        metres = -metres
    return place(_degrees(ifd.get(2), ifd.get(1), "S", 90), _degrees(ifd.get(4), ifd.get(3), "W", 180), metres)


def read_exif(image: Image.Image) -> ExifInfo:
    """Read the EXIF of an opened (not necessarily loaded) image; never raises on odd data."""
    info = ExifInfo()
    try:
        exif = image.getexif()
    except Exception:  # malformed EXIF must not fail an import
        return info
    raw: dict[str, object] = {}
    for tag, name in _TAGS_MAIN.items():
        if tag in exif:
            raw[name] = exif[tag]
    try:
        sub = exif.get_ifd(_EXIF_IFD)
    except Exception:
        sub = {}
    for tag, name in _TAGS_EXIF.items():
        if tag in sub:
            raw[name] = sub[tag]
    # Fooocus writes UserComment and MakerNote into the main IFD, not the EXIF one.
    comment = raw.pop("user_comment", None) or exif.get(_USER_COMMENT)
    info.user_comment = _decode_user_comment(comment)
    scheme = exif.get(_MAKER_NOTE)
    if isinstance(scheme, bytes | str) and len(scheme) <= 32:  # a camera's maker note is a binary blob
        info.generator_scheme = _plain(scheme) if isinstance(_plain(scheme), str) else None
    for name, value in raw.items():
        info.fields[name] = _plain(value)
    try:
        info.fields.update(_gps(dict(exif.get_ifd(_GPS_IFD))))
    except Exception:  # a broken GPS block is no place, never a failed import
        pass
    orientation = info.fields.get("orientation")
    info.orientation = orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else None
    make, model = info.fields.get("make"), info.fields.get("model")
    parts = [str(p) for p in (make, model) if p]
    if len(parts) == 2 and parts[1].startswith(parts[0]):
        parts = parts[1:]
    info.camera = " ".join(parts) or None
    info.taken_at_ms = _parse_time(info.fields.get("datetime_original"), info.fields.get("offset_original")) or (
        _parse_time(info.fields.get("datetime"), None)
    )
    return info


def png_creation_time(info: dict) -> int | None:
    """A PNG's ``Creation Time`` text (the PNG specification's keyword, written by some generators and
    editors; RFC 1123 as the specification suggests, or ISO 8601), as epoch milliseconds; None if absent
    or unreadable."""
    value = info.get("Creation Time")
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return _parse_time(text, None)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)
