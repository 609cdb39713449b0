"""The people photo software names (issue 63): MWG face regions as digiKam writes them with exiv2 (and
Lightroom Classic, Picasa, ExifToolGUI), Windows Photo Gallery's MP regions, IPTC's PersonInImage. Each
named person becomes a character (one already there, in any case, is used), its face box a face named as
it; a face detector's face on the same spot takes the name; a reference folder's sidecar changed later
replaces the boxes; hostile packets (thousands of regions, boxes outside the picture, huge names) are read
as far as they go and the picture comes in."""

from __future__ import annotations

import os

import pyexiv2
from corpus import photo

from pixlstash.db.vectors import FaceRow
from pixlstash.domain import PictureFilter

MWG = "Xmp.mwg-rs.Regions"
CROWD = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about=""
 xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#">
<mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:RegionList><rdf:Bag>{}</rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>"""
LIST = f"{MWG}/mwg-rs:RegionList"


def _regions(regions: list[tuple[str, str, tuple]], size=(200, 100)) -> dict:
    """exiv2's properties for MWG regions as digiKam writes them: (name, type, (x, y, w, h)) each, the area's
    x and y its centre, all fractions of the picture."""
    found = {
        MWG: 'type="Struct"',
        f"{MWG}/mwg-rs:AppliedToDimensions": 'type="Struct"',
        f"{MWG}/mwg-rs:AppliedToDimensions/stDim:w": str(size[0]),
        f"{MWG}/mwg-rs:AppliedToDimensions/stDim:h": str(size[1]),
        f"{MWG}/mwg-rs:AppliedToDimensions/stDim:unit": "pixel",
        LIST: 'type="Bag"',
    }
    for n, (name, kind, area) in enumerate(regions, 1):
        item = f"{LIST}[{n}]"
        found.update({item: 'type="Struct"', f"{item}/mwg-rs:Name": name, f"{item}/mwg-rs:Type": kind})
        found[f"{item}/mwg-rs:Area"] = 'type="Struct"'
        for key, value in zip("xywh", area, strict=True):
            found[f"{item}/mwg-rs:Area/stArea:{key}"] = str(value)
        found[f"{item}/mwg-rs:Area/stArea:unit"] = "normalized"
    return found


def _write(path, properties: dict) -> None:
    if path.suffix == ".xmp":
        path.write_text('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"/>')
    with pyexiv2.Image(str(path)) as image:
        image.modify_xmp(properties)


def _faces(library, picture_id):
    names = {c.id: c.name for c in library.collections.collections("character")}
    faces = [f for f in library.get(picture_id).faces if f.engine_id == "xmp"]
    return sorted((names.get(f.character_id), tuple(round(v, 3) for v in f.box)) for f in faces)


def _members(library, name):
    [character] = [c for c in library.collections.collections("character") if c.name == name]
    return sorted(p.id for p in library.page(PictureFilter(collections=[character.id])).items)


def test_named_face_regions_become_characters_and_named_faces(library, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    photo(200, 100, seed=1).save(folder / "family.jpg", quality=90)
    _write(folder / "family.jpg", {
        **_regions([("Ana", "Face", (0.25, 0.4, 0.2, 0.3)), ("Bruno", "Face", (0.75, 0.5, 0.1, 0.2)),
                    ("Rex", "Pet", (0.5, 0.5, 0.2, 0.2))]),
        "Xmp.iptcExt.PersonInImage": ["Ana", "Bruno", "Chloé"],
    })  # fmt: skip
    photo(200, 100, seed=2).save(folder / "gallery.jpg", quality=90)  # Windows Photo Gallery's form only
    _write(folder / "gallery.jpg", {
        "Xmp.MP.RegionInfo": 'type="Struct"', "Xmp.MP.RegionInfo/MPRI:Regions": 'type="Bag"',
        "Xmp.MP.RegionInfo/MPRI:Regions[1]": 'type="Struct"',
        "Xmp.MP.RegionInfo/MPRI:Regions[1]/MPReg:Rectangle": "0.1, 0.2, 0.3, 0.4",
        "Xmp.MP.RegionInfo/MPRI:Regions[1]/MPReg:PersonDisplayName": "ana",
        "Xmp.MP.RegionInfo/MPRI:Regions[2]": 'type="Struct"',
        "Xmp.MP.RegionInfo/MPRI:Regions[2]/MPReg:Rectangle": "0.5, 0.5, 0.1, 0.1",
        "Xmp.MP.RegionInfo/MPRI:Regions[2]/MPReg:PersonDisplayName": "ffffffffffffffff",  # "ignored"
    })  # fmt: skip
    ana = library.organise.create_collection("character", "ANA")  # already there: used, in any case
    report = library.import_paths([folder])
    assert report.skipped == [] and all(i.notes == [] for i in report.imported), report
    ids = {os.path.basename(i.path): i.picture_id for i in report.imported}
    assert sorted(c.name for c in library.collections.collections("character")) == ["ANA", "Bruno", "Chloé"]
    family = [("ANA", (30.0, 25.0, 70.0, 55.0)), ("Bruno", (140.0, 40.0, 160.0, 60.0))]  # in the picture's pixels
    assert _faces(library, ids["family.jpg"]) == family
    assert _faces(library, ids["gallery.jpg"]) == [("ANA", (20.0, 20.0, 80.0, 60.0))]
    assert _members(library, "ANA") == sorted(ids.values())
    assert _members(library, "Chloé") == [ids["family.jpg"]]  # named, no box: filed under the character
    assert [c.name for c in library.collections.collections("character") if c.id == ana.id] == ["ANA"]

    # A face detector run later: its face on Ana's spot takes her name and brings its likeness vector.
    detected = [FaceRow((32.0, 27.0, 69.0, 56.0), 0.99, [], None), FaceRow((0.0, 0.0, 10.0, 10.0), 0.9, [], None)]
    with library.db.write():
        library.vectors.replace_faces(ids["family.jpg"], "test/faces", "1", detected, 0)
    faces = sorted((f.box[0], f.character_id) for f in library.get(ids["family.jpg"]).faces if f.engine_id != "xmp")
    assert faces == [(0.0, None), (32.0, ana.id)]


def test_a_reference_folder_s_changed_sidecar_replaces_the_boxes_it_gave(library, tmp_path):
    ref = tmp_path / "photos"
    ref.mkdir()
    photo(200, 100, seed=3).save(ref / "party.jpg", quality=90)
    _write(ref / "party.jpg.xmp", _regions([("Dana", "Face", (0.5, 0.5, 0.2, 0.2))]))
    folder = library.folder_sync.add("reference", ref)
    [item] = library.folder_sync.scan(folder.id).report.imported
    assert _faces(library, item.picture_id) == [("Dana", (80.0, 40.0, 120.0, 60.0))]

    (ref / "party.jpg.xmp").unlink()
    moved = [("Dana", "Face", (0.2, 0.5, 0.2, 0.2)), ("Eli", "Face", (0.8, 0.5, 0.2, 0.2))]
    _write(ref / "party.jpg.xmp", _regions(moved))
    stamp = (ref / "party.jpg.xmp").stat().st_mtime_ns
    os.utime(ref / "party.jpg.xmp", ns=(stamp + 10**9, stamp + 10**9))  # a later time, whatever the clock's step
    library.folder_sync.scan(folder.id)
    assert _faces(library, item.picture_id) == [("Dana", (20.0, 40.0, 60.0, 60.0)), ("Eli", (140.0, 40.0, 180.0, 60.0))]

    (ref / "party.jpg.xmp").unlink()
    library.folder_sync.scan(folder.id)
    assert _faces(library, item.picture_id) == []  # the boxes go; the pictures stay filed under the people
    assert _members(library, "Eli") == [item.picture_id]


def test_hostile_regions_are_read_as_far_as_they_go(library, tmp_path):
    """Five thousand regions, boxes outside the picture or of no size, numbers that are not numbers, a name
    of 10,000 characters and one of spaces: at most 100 people, the bad boxes left out, the picture in."""
    folder = tmp_path / "in"
    folder.mkdir()
    photo(200, 100, seed=4).save(folder / "crowd.jpg", quality=90)
    region = (  # written out, not by exiv2: a hostile packet comes from no tool, and exiv2 takes minutes for it
        '<rdf:li><rdf:Description mwg-rs:Name="P{}" mwg-rs:Type="Face"><mwg-rs:Area stArea:x="0.5" stArea:y="0.5" '
        'stArea:w="0.01" stArea:h="0.01" stArea:unit="normalized"/></rdf:Description></rdf:li>'
    )
    (folder / "crowd.jpg.xmp").write_text(CROWD.format("".join(region.format(n) for n in range(5000))))
    photo(200, 100, seed=5).save(folder / "odd.jpg", quality=90)
    _write(folder / "odd.jpg", _regions([
        ("Outside", "Face", (5, 0.5, 0.1, 0.1)), ("Flat", "Face", (0.5, 0.5, 0, 0.1)),
        ("NaN", "Face", ("nan", 0.5, 0.1, 0.1)), ("Edge", "Face", (0.95, 0.5, 0.2, 0.2)),
        ("x" * 10_000, "Face", (0.5, 0.5, 0.1, 0.1)), ("   ", "Face", (0.5, 0.5, 0.1, 0.1)),
    ]))  # fmt: skip
    report = library.import_paths([folder])
    assert report.skipped == [] and len(report.imported) == 2
    ids = {os.path.basename(i.path): i.picture_id for i in report.imported}
    assert len(_faces(library, ids["crowd.jpg"])) == 100
    odd = _faces(library, ids["odd.jpg"])
    assert odd == [("x" * 200, (90.0, 45.0, 110.0, 55.0))]  # the long name cut to 200; the bad boxes left out
    for name in ("Outside", "Flat", "NaN", "Edge"):  # named without a usable box: filed, no face
        assert _members(library, name) == [ids["odd.jpg"]], name
