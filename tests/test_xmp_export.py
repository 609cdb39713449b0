"""``pixlstash export --xmp`` (issue 63): an ``.xmp`` sidecar beside each exported image, read back with
the photo tools' own libraries: exiv2 (pyexiv2; digiKam's and darktable's) and Exempi (python-xmp-toolkit;
Adobe's XMP toolkit as Bridge ships it). And back again: a library importing the exported folder finds the
same tags, rating, caption and people (a named face's box as an MWG region). The originals are never
touched."""

from __future__ import annotations

import hashlib

import pyexiv2
from conftest import run_cli
from corpus import photo

from pixlstash.db.vectors import FaceRow
from pixlstash.domain import PictureFilter

LR = "http://ns.adobe.com/lightroom/1.0/"
DIGIKAM = "http://www.digikam.org/ns/1.0/"
DARKTABLE = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:darktable="http://darktable.sf.net/" xmlns:dc="http://purl.org/dc/elements/1.1/">
{history}<dc:subject><rdf:Seq><rdf:li>harbour</rdf:li></rdf:Seq></dc:subject>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>"""


def _items(meta, namespace: str, name: str) -> list[str]:
    return [meta.get_array_item(namespace, name, n + 1) for n in range(meta.count_array_items(namespace, name))]


def test_export_xmp_sidecars_read_in_exiv2_and_exempi_and_come_back_on_import(library, tmp_path):
    from libxmp import XMPMeta, consts  # needs the system's libexempi (scripts/setup --dev installs it)

    from pixlstash.library import Library
    from pixlstash.plugins import make_plugin_manager

    folder = tmp_path / "pictures"
    folder.mkdir()
    photo(200, 150, seed=1).save(folder / "dog.jpg", quality=90)
    photo(200, 150, seed=2).save(folder / "plain.png")
    originals = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    ids = {i.path.rsplit("/", 1)[-1]: i.picture_id for i in library.import_paths([folder]).imported}
    library.edits.tag([ids["dog.jpg"]], add=["Animals/Dogs/Labrador", "beach", "label/red"])
    library.edits.set_fields([ids["dog.jpg"]], rating=4)
    library.edits.caption(ids["dog.jpg"], "Bruno chasing the tide")
    with library.db.write():  # a face a detector found, named by hand; a person filed without a face
        _, [face] = library.vectors.replace_faces(
            ids["dog.jpg"], "test/faces", "1", [FaceRow((50, 30, 90, 90), 1, [], None)], 0
        )
    bruno = library.organise.create_collection("character", "Bruno")
    library.edits.assign_faces([face], bruno.id)
    library.edits.file_under_character("Ana", [ids["dog.jpg"]])
    library.close()

    run_cli("export", "--library", str(library.root), "--to", str(tmp_path / "out"), "--xmp", "--names", "original")
    sidecar = tmp_path / "out" / "dog.jpg.xmp"
    with pyexiv2.Image(str(sidecar)) as image:  # exiv2's reader
        read = image.read_xmp()
    assert read["Xmp.lr.hierarchicalSubject"] == ["Animals|Dogs|Labrador"]
    assert read["Xmp.digiKam.TagsList"] == ["Animals/Dogs/Labrador"]
    assert sorted(read["Xmp.dc.subject"]) == ["Animals", "Dogs", "Labrador", "beach"]
    assert (read["Xmp.xmp.Rating"], read["Xmp.xmp.Label"]) == ("4", "Red")
    assert read["Xmp.dc.description"] == {'lang="x-default"': "Bruno chasing the tide"}
    assert sorted(read["Xmp.iptcExt.PersonInImage"]) == ["Ana", "Bruno"]
    region = "Xmp.mwg-rs.Regions/mwg-rs:RegionList[1]"
    assert (read[f"{region}/mwg-rs:Name"], read[f"{region}/mwg-rs:Type"]) == ("Bruno", "Face")
    area = [float(read[f"{region}/mwg-rs:Area/stArea:{k}"]) for k in "xywh"]
    assert area == [0.35, 0.4, 0.2, 0.4]  # centre and size, fractions of the 200 x 150 image
    assert "Xmp.mwg-rs.Regions/mwg-rs:RegionList[2]" not in read

    meta = XMPMeta()  # Exempi's reader
    meta.parse_from_str(sidecar.read_text())
    assert meta.get_property(consts.XMP_NS_XMP, "Rating") == "4"
    assert meta.get_property(consts.XMP_NS_XMP, "Label") == "Red"
    assert _items(meta, LR, "hierarchicalSubject") == ["Animals|Dogs|Labrador"]
    assert _items(meta, DIGIKAM, "TagsList") == ["Animals/Dogs/Labrador"]
    assert meta.get_localized_text(consts.XMP_NS_DC, "description", None, "x-default") == "Bruno chasing the tide"
    mwg = "http://www.metadataworkinggroup.com/schemas/regions/"
    assert meta.get_property(mwg, "Regions/mwg-rs:RegionList[1]/mwg-rs:Name") == "Bruno"
    assert meta.get_property(mwg, "Regions/mwg-rs:RegionList[1]/mwg-rs:Area/stArea:w") == "0.200000"
    assert (tmp_path / "out" / "plain.png.xmp").is_file()  # every image gets one, empty or not

    # Round trip: the exported folder imported into a fresh library says the same.
    with Library.open(tmp_path / "again", plugin_manager=make_plugin_manager(load_entry_points=False)) as again:
        report = again.import_paths([tmp_path / "out"])
        [dog] = [i for i in report.imported if i.path.endswith("dog.jpg")]
        picture = again.get(dog.picture_id)
        assert sorted(t.name for t in picture.tags) == ["Animals/Dogs/Labrador", "beach", "label/red"]
        assert picture.rating == 4 and [c.text for c in picture.captions] == ["Bruno chasing the tide"]
        assert [p.id for p in again.page(PictureFilter(tags=["beach"])).items] == [dog.picture_id]
        names = {c.id: c.name for c in again.collections.collections("character")}
        assert sorted(names.values()) == ["Ana", "Bruno"]
        boxes = [(names[f.character_id], tuple(round(v) for v in f.box)) for f in picture.faces]
        assert boxes == [("Bruno", (50, 30, 90, 90))]
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()} == originals


def test_a_reference_folder_set_to_write_xmp_keeps_its_sidecars_and_what_else_they_hold(library, tmp_path):
    """darktable's sidecar (its own history, its keywords) beside one photo, none beside another: tags,
    stars, caption and a named face written into both as people change them in PixlStash, read by exiv2
    and Exempi; darktable's history stays; nothing is written through a sidecar that is a link, and a
    rescan does not take what was written for the photo software's change."""
    from libxmp import XMPMeta

    from pixlstash.domain import FolderOptions

    ref = tmp_path / "photos"
    ref.mkdir()
    photo(200, 100, seed=1).save(ref / "boat.jpg", quality=90)
    photo(200, 100, seed=2).save(ref / "quay.jpg", quality=90)
    photo(200, 100, seed=3).save(ref / "linked.jpg", quality=90)
    outside = tmp_path / "elsewhere.xmp"
    outside.write_bytes(b"")
    (ref / "linked.jpg.xmp").symlink_to(outside)
    darktable = DARKTABLE.format(history="<darktable:history_end>3</darktable:history_end>")
    (ref / "boat.jpg.xmp").write_text(darktable)
    folder = library.folder_sync.add("reference", ref, FolderOptions(write_xmp=True))
    ids = {i.path.rsplit("/", 1)[-1]: i.picture_id for i in library.folder_sync.scan(folder.id).report.imported}
    assert sorted(t.name for t in library.get(ids["boat.jpg"]).tags) == ["harbour"]

    library.edits.tag(list(ids.values()), add=["Places/Liverpool", "dawn"])
    library.edits.set_fields([ids["boat.jpg"]], rating=5)
    library.edits.caption(ids["quay.jpg"], "The quay at first light")
    with library.db.write():
        _, [face] = library.vectors.replace_faces(
            ids["quay.jpg"], "test/faces", "1", [FaceRow((20, 10, 60, 50), 1, [], None)], 0
        )
    library.edits.assign_faces([face], library.organise.create_collection("character", "Dana").id)

    with pyexiv2.Image(str(ref / "boat.jpg.xmp")) as image:
        boat = image.read_xmp()
    assert sorted(boat["Xmp.dc.subject"]) == ["Liverpool", "Places", "dawn", "harbour"]
    assert (boat["Xmp.lr.hierarchicalSubject"], boat["Xmp.xmp.Rating"]) == (["Places|Liverpool"], "5")
    assert boat["Xmp.darktable.history_end"] == "3"  # darktable's own, kept
    quay = XMPMeta()  # Adobe's toolkit, through Exempi
    quay.parse_from_str((ref / "quay.jpg.xmp").read_text())
    mwg = "http://www.metadataworkinggroup.com/schemas/regions/"
    assert quay.get_property(mwg, "Regions/mwg-rs:RegionList[1]/mwg-rs:Name") == "Dana"
    assert quay.get_property(mwg, "Regions/mwg-rs:RegionList[1]/mwg-rs:Area/stArea:x") == "0.200000"
    assert quay.get_localized_text("http://purl.org/dc/elements/1.1/", "description", None, "x-default") == (
        "The quay at first light"
    )
    assert outside.read_bytes() == b""  # never written through the link

    written = (ref / "quay.jpg.xmp").stat().st_mtime_ns
    library.folder_sync.scan(folder.id)  # what was written is not a change to read back
    assert (ref / "quay.jpg.xmp").stat().st_mtime_ns == written
    assert [f.engine_id for f in library.get(ids["quay.jpg"]).faces] == ["test/faces"]
    library.edits.tag([ids["boat.jpg"]], remove=["dawn"])
    with pyexiv2.Image(str(ref / "boat.jpg.xmp")) as image:
        assert sorted(image.read_xmp()["Xmp.dc.subject"]) == ["Liverpool", "Places", "harbour"]


def test_xmp_sidecars_are_turned_on_for_a_folder_already_there(library, tmp_path):
    """`pixlstash folders xmp ID on`: a reference folder added without the setting keeps sidecars from then
    on; `off` stops it; an import folder refuses it with one line."""
    from pixlstash.library import Library
    from pixlstash.plugins import make_plugin_manager

    ref, inbox = tmp_path / "photos", tmp_path / "inbox"
    ref.mkdir()
    inbox.mkdir()
    photo(120, 90, seed=4).save(ref / "pier.jpg", quality=90)
    folder = library.folder_sync.add("reference", ref)
    [item] = library.folder_sync.scan(folder.id).report.imported
    watched = library.folder_sync.add("import", inbox)
    root = str(library.root)
    library.close()

    def tag(name: str) -> list[str]:
        with Library.open(root, plugin_manager=make_plugin_manager(load_entry_points=False)) as again:
            again.edits.tag([item.picture_id], add=[name])
        with pyexiv2.Image(str(ref / "pier.jpg.xmp")) as image:
            return image.read_xmp()["Xmp.dc.subject"]

    said = run_cli("folders", "xmp", str(folder.id), "on", "--library", root).stdout
    assert said.startswith(f"folder {folder.id} keeps .xmp sidecars")
    refused = run_cli("folders", "xmp", str(watched.id), "on", "--library", root, check=False)
    assert refused.returncode != 0 and "keeping .xmp sidecars: only for a reference folder" in refused.stderr
    assert tag("pier") == ["pier"]
    run_cli("folders", "xmp", str(folder.id), "off", "--library", root)
    assert tag("dusk") == ["pier"]  # no longer written


def test_an_exported_region_follows_the_bucket_s_crop(library, tmp_path):
    """A 900x200 picture exported into a 1024 bucket (2048x512: Pillow's centre crop takes 50 pixels off each
    side, then a scale): the named face's
    region is where the face is in the image written (found by its colour), and a face the crop cuts away
    keeps only its name."""
    import numpy as np
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (900, 200), (40, 40, 40))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((330, 50, 389, 129), fill=(250, 20, 20))  # Bruno's face: x 330-390, y 50-130
    draw.rectangle((0, 60, 29, 99), fill=(20, 250, 20))  # Ana's, at the edge a bucket cuts
    picture.save(tmp_path / "wide.png")
    [item] = library.import_paths([tmp_path / "wide.png"]).imported
    with library.db.write():
        _, faces = library.vectors.replace_faces(
            item.picture_id, "test/faces", "1",
            [FaceRow((330, 50, 390, 130), 1, [], None), FaceRow((0, 60, 30, 100), 1, [], None)], 0,
        )  # fmt: skip
    library.edits.assign_faces([faces[0]], library.organise.create_collection("character", "Bruno").id)
    library.edits.assign_faces([faces[1]], library.organise.create_collection("character", "Ana").id)
    library.close()

    out = tmp_path / "out"
    run_cli("export", "--library", str(library.root), "--to", str(out), "--xmp", "--names", "original",
            "--buckets", "1024")  # fmt: skip
    [image] = [p for p in out.iterdir() if p.name.startswith("wide.") and not p.name.endswith(".xmp")]
    with Image.open(image) as written:
        pixels = np.asarray(written.convert("RGB")).astype(int)
        size = written.size
    with pyexiv2.Image(str(image) + ".xmp") as sidecar:
        read = sidecar.read_xmp()
    assert sorted(read["Xmp.iptcExt.PersonInImage"]) == ["Ana", "Bruno"]
    assert (read["Xmp.mwg-rs.Regions/mwg-rs:AppliedToDimensions/stDim:w"], read[
        "Xmp.mwg-rs.Regions/mwg-rs:AppliedToDimensions/stDim:h"]) == (str(size[0]), str(size[1]))  # fmt: skip
    region = "Xmp.mwg-rs.Regions/mwg-rs:RegionList[1]"
    assert read[f"{region}/mwg-rs:Name"] == "Bruno" and f"{region[:-3]}[2]" not in read  # Ana: her name only
    x, y, w, h = (float(read[f"{region}/mwg-rs:Area/stArea:{k}"]) for k in "xywh")
    red = (pixels[..., 0] > 180) & (pixels[..., 1] < 90)
    rows, cols = np.nonzero(red)
    found = (cols.min() / size[0], rows.min() / size[1], (cols.max() + 1) / size[0], (rows.max() + 1) / size[1])
    expected = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
    assert max(abs(a - b) for a, b in zip(found, expected, strict=True)) < 0.005, (found, expected)


def test_a_sidecar_that_already_says_it_all_is_not_written_again():
    """`updated_sidecar` gives None when the sidecar already says what PixlStash knows (regions, keywords,
    label, rating, caption), and new bytes when one word of it changed or a rating or caption was taken
    off: what other tools wrote is kept."""
    from pixlstash.domain import PersonRegion
    from pixlstash.media.xmp_sidecar import SidecarContent, updated_sidecar, xmp_sidecar

    people = (PersonRegion("Dana", (0.1, 0.2, 0.3, 0.4)), PersonRegion("Sam"))
    content = SidecarContent(["Places/Liverpool", "label/red", "dawn"], 4, "First light", people, (640, 480))
    written = xmp_sidecar(content)
    assert updated_sidecar(written, content) is None
    with pyexiv2.ImageData(written) as data:
        data.modify_xmp({"Xmp.photoshop.City": "Liverpool"})  # another tool's own
        theirs = data.get_bytes()
    assert updated_sidecar(theirs, content) is None
    changed = updated_sidecar(
        theirs, SidecarContent(["Places/Liverpool", "dusk"], 4, "First light", people, (640, 480))
    )
    with pyexiv2.ImageData(changed) as data:
        said = data.read_xmp()
    assert sorted(said["Xmp.dc.subject"]) == ["Liverpool", "Places", "dusk"]
    assert "Xmp.xmp.Label" not in said and said["Xmp.photoshop.City"] == "Liverpool"
    assert said["Xmp.mwg-rs.Regions/mwg-rs:RegionList[1]/mwg-rs:Name"] == "Dana"
    # Stars and a caption taken off leave the sidecar too (exiv2's EXIF copy of them does not bring them back).
    with pyexiv2.ImageData(updated_sidecar(changed, SidecarContent(["dusk"], 0, ""))) as data:
        said = data.read_xmp()
    assert said["Xmp.dc.subject"] == ["dusk"] and said["Xmp.photoshop.City"] == "Liverpool"
    assert not {"Xmp.xmp.Rating", "Xmp.dc.description", "Xmp.iptcExt.PersonInImage"} & set(said)
