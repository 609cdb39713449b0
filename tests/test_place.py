"""Where a picture was taken (issue 63): a camera's or a phone's EXIF GPS block (written here by exiv2, as
cameras lay it out: degrees, minutes and seconds as rationals, with N/S, E/W and the altitude's reference)
and the ``exif:GPS*`` properties Lightroom and digiKam write into a sidecar when a person places a
picture on their map. The sidecar's place wins; a reference folder's sidecar changed later is read again,
and deleted gives back the camera's. Broken blocks are no place, never a failed import."""

from __future__ import annotations

import os

import pyexiv2
from corpus import photo


def _with_gps(path, latitude: tuple[str, str], longitude: tuple[str, str], extra: dict | None = None) -> None:
    photo(120, 90, seed=len(path.name)).save(path, quality=90)
    with pyexiv2.Image(str(path)) as image:
        image.modify_exif(
            {
                "Exif.GPSInfo.GPSVersionID": "2 3 0 0",
                "Exif.GPSInfo.GPSLatitudeRef": latitude[0],
                "Exif.GPSInfo.GPSLatitude": latitude[1],
                "Exif.GPSInfo.GPSLongitudeRef": longitude[0],
                "Exif.GPSInfo.GPSLongitude": longitude[1],
                **(extra or {}),
            }
        )


def _sidecar(path, properties: dict) -> None:
    path.write_text('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"/>')
    with pyexiv2.Image(str(path)) as image:
        image.modify_xmp(properties)


def _place(library, picture_id):
    exif = library.get(picture_id).exif
    return tuple(exif.get(key) for key in ("gps_latitude", "gps_longitude", "gps_altitude"))


def test_the_camera_s_gps_and_a_sidecar_s_place_come_in_as_the_picture_s_place(library, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    # Liverpool's Pier Head, 12 m up; Cape Town, south and east; below sea level at the Dead Sea.
    _with_gps(folder / "pier.jpg", ("N", "53/1 24/1 3024/100"), ("W", "2/1 59/1 4140/100"),
              {"Exif.GPSInfo.GPSAltitudeRef": "0", "Exif.GPSInfo.GPSAltitude": "12/1"})  # fmt: skip
    _with_gps(folder / "cape.jpg", ("S", "33/1 55/1 0/1"), ("E", "18/1 25/1 30/1"))
    _with_gps(folder / "dead-sea.jpg", ("N", "31/1 30/1 0/1"), ("E", "35/1 30/1 0/1"),
              {"Exif.GPSInfo.GPSAltitudeRef": "1", "Exif.GPSInfo.GPSAltitude": "430/1"})  # fmt: skip
    _with_gps(folder / "placed.jpg", ("N", "1/1 0/1 0/1"), ("E", "1/1 0/1 0/1"))
    _sidecar(folder / "placed.xmp", {"Xmp.exif.GPSLatitude": "48,51.5052N", "Xmp.exif.GPSLongitude": "2,17.7226E"})
    photo(120, 90, seed=9).save(folder / "plain.jpg", quality=90)
    report = library.import_paths([folder])
    assert report.skipped == [] and all(i.notes == [] for i in report.imported), report
    ids = {os.path.basename(i.path): i.picture_id for i in report.imported}
    assert _place(library, ids["pier.jpg"]) == (53.4084, -2.9948333, 12.0)
    assert _place(library, ids["cape.jpg"]) == (-33.9166667, 18.425, None)
    assert _place(library, ids["dead-sea.jpg"]) == (31.5, 35.5, -430.0)
    assert _place(library, ids["placed.jpg"]) == (48.85842, 2.2953767, None)  # the photo software's place wins
    assert _place(library, ids["plain.jpg"]) == (None, None, None)


def test_broken_gps_blocks_are_no_place_and_the_picture_comes_in(library, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    _with_gps(folder / "zero-denominator.jpg", ("N", "53/0 24/1 0/1"), ("W", "2/1 59/1 0/1"))
    _with_gps(folder / "minutes.jpg", ("N", "53/1 75/1 0/1"), ("W", "2/1 59/1 0/1"))
    _with_gps(folder / "past-the-pole.jpg", ("N", "95/1 0/1 0/1"), ("W", "2/1 59/1 0/1"))
    _with_gps(folder / "no-fix.jpg", ("N", "0/1 0/1 0/1"), ("E", "0/1 0/1 0/1"))  # a camera's placeholder
    _with_gps(folder / "void.jpg", ("N", "53/1 24/1 0/1"), ("W", "2/1 59/1 0/1"), {"Exif.GPSInfo.GPSStatus": "V"})
    _with_gps(folder / "sidecar.jpg", ("N", "53/1 24/1 0/1"), ("W", "2/1 59/1 0/1"))
    _sidecar(folder / "sidecar.xmp", {"Xmp.exif.GPSLatitude": "9999999,99.9Q", "Xmp.exif.GPSLongitude": "x,y,zE"})
    report = library.import_paths([folder])
    assert report.skipped == [] and len(report.imported) == 6
    ids = {os.path.basename(i.path): i.picture_id for i in report.imported}
    for name in ("zero-denominator.jpg", "minutes.jpg", "past-the-pole.jpg", "no-fix.jpg", "void.jpg"):
        assert _place(library, ids[name]) == (None, None, None), name
    assert _place(library, ids["sidecar.jpg"]) == (53.4, -2.9833333, None)  # a sidecar's nonsense: the camera's


def test_a_reference_folder_s_sidecar_that_places_a_picture_later_is_read_on_rescan(library, tmp_path):
    ref = tmp_path / "photos"
    ref.mkdir()
    _with_gps(ref / "boat.jpg", ("N", "53/1 24/1 0/1"), ("W", "2/1 59/1 0/1"))
    folder = library.folder_sync.add("reference", ref)
    [item] = library.folder_sync.scan(folder.id).report.imported
    assert _place(library, item.picture_id) == (53.4, -2.9833333, None)

    _sidecar(ref / "boat.jpg.xmp", {"Xmp.exif.GPSLatitude": "53,24.6N", "Xmp.exif.GPSLongitude": "3,0.6W",
                                    "Xmp.exif.GPSAltitude": "5/1", "Xmp.exif.GPSAltitudeRef": "0"})  # fmt: skip
    library.folder_sync.scan(folder.id)
    assert _place(library, item.picture_id) == (53.41, -3.01, 5.0)
    assert library.get(item.picture_id).exif.get("make") is None  # nothing else of the EXIF changed

    (ref / "boat.jpg.xmp").unlink()
    library.folder_sync.scan(folder.id)
    assert _place(library, item.picture_id) == (53.4, -2.9833333, None)  # the camera's again
