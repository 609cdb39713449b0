"""Photo software's XMP, read at import (issue 63): keywords (Lightroom's ``|`` hierarchy, digiKam's
``TagsList``), stars, a rejection, the colour label, title and description, from a JPEG's embedded packet
written by exiv2 (the library digiKam and darktable write with), a darktable-style ``name.ext.xmp``
sidecar, a Lightroom-style ``name.xmp`` sidecar, and Draw Things' packet in a PNG's iTXt chunk. Then the
hostile ones: a DOCTYPE with entities, an external entity, a 50 MB packet, a truncated packet, a sidecar
that is a link out of its folder: one note each, the picture imported, nothing else read."""

from __future__ import annotations

import json
import os

import pyexiv2
from corpus import photo
from PIL.PngImagePlugin import PngInfo

from pixlstash.domain import PictureFilter

LIGHTROOM = {
    "Xmp.dc.subject": ["Animals", "Dogs", "Labrador", "beach"],
    "Xmp.lr.hierarchicalSubject": ["Animals|Dogs|Labrador"],
    "Xmp.xmp.Rating": "4",
    "Xmp.xmp.Label": "Red",
    "Xmp.dc.title": {'lang="x-default"': "Morning run"},
    "Xmp.dc.description": {'lang="x-default"': "Bruno chasing the tide at Formby"},
}
DARKTABLE = {
    "Xmp.dc.subject": ["darktable|format|jpg", "harbour"],
    "Xmp.lr.hierarchicalSubject": ["places|Liverpool|docks"],
    "Xmp.xmp.Rating": "-1",
}
DIGIKAM = {"Xmp.digiKam.TagsList": ["People/Family/Ana"], "Xmp.dc.subject": ["Ana"], "Xmp.xmp.Rating": "5"}
DRAW_THINGS = {
    "c": "a paper crane on a windowsill, soft light",
    "uc": "blurry",
    "model": "flux_1_schnell_q5p.ckpt",
    "sampler": "Euler A Trailing",
    "seed": 2837461,
    "steps": 8,
    "scale": 3.5,
    "size": "1024x1024",
    "lora": [{"file": "paper_art_lora_f16.ckpt", "weight": 0.7}],
}
PACKET = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:exif="http://ns.adobe.com/exif/1.0/" xmp:CreatorTool="Draw Things">
<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{description}</rdf:li></rdf:Alt></dc:description>
<exif:UserComment><rdf:Alt><rdf:li xml:lang="x-default">{comment}</rdf:li></rdf:Alt></exif:UserComment>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>"""


def _with_xmp(path, properties: dict) -> None:
    """``path`` given these XMP properties by exiv2 (a sidecar path makes an .xmp file of its own)."""
    if path.suffix == ".xmp":
        path.write_text('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"/>')
    with pyexiv2.Image(str(path)) as image:
        image.modify_xmp(properties)


def _draw_things_png(path, description: str, comment: str) -> None:
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", PACKET.format(description=description, comment=comment))
    photo(128, 128, seed=9).save(path, pnginfo=info)


def test_keywords_ratings_labels_and_captions_come_in_from_embedded_xmp_and_sidecars(library, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    photo(160, 120, seed=1).save(folder / "lightroom.jpg", quality=90)
    _with_xmp(folder / "lightroom.jpg", LIGHTROOM)
    photo(160, 120, seed=2).save(folder / "darktable.png")
    _with_xmp(folder / "darktable.png.xmp", DARKTABLE)  # darktable: name.ext.xmp
    photo(160, 120, seed=3).save(folder / "digikam.jpg", quality=90)
    _with_xmp(folder / "digikam.xmp", DIGIKAM)  # Lightroom's and digiKam's form: name.xmp
    photo(160, 120, seed=4).save(folder / "plain.jpg", quality=90)
    for n, other in enumerate(("lightroom.webp", "lightroom.tif")):  # the same packet in other formats
        photo(160, 120, seed=10 + n).save(folder / other)
        _with_xmp(folder / other, LIGHTROOM)
    report = library.import_paths([folder])
    assert report.skipped == [] and all(i.notes == [] for i in report.imported), report
    ids = {os.path.basename(i.path): i.picture_id for i in report.imported}
    assert len(ids) == 6  # the sidecars are not pictures

    def tags(name):
        return sorted(t.name for t in library.get(ids[name]).tags)

    lightroom = library.get(ids["lightroom.jpg"])
    assert tags("lightroom.jpg") == ["Animals/Dogs/Labrador", "beach", "label/red"]
    assert (lightroom.rating, lightroom.flagged) == (4, False)
    assert [(c.source, c.text) for c in lightroom.captions] == [("xmp", "Bruno chasing the tide at Formby")]
    for other in ("lightroom.webp", "lightroom.tif"):
        assert tags(other) == tags("lightroom.jpg") and library.get(ids[other]).rating == 4, other
    darktable = library.get(ids["darktable.png"])
    assert tags("darktable.png") == ["darktable|format|jpg", "harbour", "places/Liverpool/docks"]
    assert (darktable.rating, darktable.flagged) == (0, True)  # rejected: flagged, no stars
    assert tags("digikam.jpg") == ["People/Family/Ana"] and library.get(ids["digikam.jpg"]).rating == 5
    assert tags("plain.jpg") == [] and library.get(ids["plain.jpg"]).captions == []
    found = sorted(p.id for p in library.page(PictureFilter(text="tide Formby")).items)
    assert found == sorted(ids[n] for n in ("lightroom.jpg", "lightroom.webp", "lightroom.tif"))  # as any caption
    assert sorted(p.id for p in library.page(PictureFilter(tags=["harbour"])).items) == [ids["darktable.png"]]


def test_draw_things_generation_data_comes_from_its_xmp(library, tmp_path):
    path = tmp_path / "drawthings.png"
    _draw_things_png(path, "a paper crane on a windowsill, soft light", json.dumps(DRAW_THINGS))
    [item] = library.import_paths([path]).imported
    g = library.get(item.picture_id).generation
    assert (g.tool, g.positive, g.negative, g.checkpoint) == (
        "drawthings", DRAW_THINGS["c"], "blurry", "flux_1_schnell_q5p.ckpt"
    )  # fmt: skip
    assert (g.seed, g.steps, g.cfg, g.sampler) == ("2837461", 8, 3.5, "Euler A Trailing")
    assert [(lora.name, lora.weight) for lora in g.loras] == [("paper_art_lora_f16.ckpt", 0.7)]


def test_hostile_xmp_is_one_note_and_the_picture_comes_in(library, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    entities = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10 if i else "lol"}">' for i in range(9))
    bomb = f'<?xml version="1.0"?><!DOCTYPE x:xmpmeta [{entities}]>' + PACKET.split("?>", 1)[1].format(
        description="&e8;", comment="{}"
    )
    external = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY s SYSTEM "file:///etc/passwd">]>' + PACKET.split("?>", 1)[
        1
    ].format(description="&s;", comment="{}")
    for name, packet in (("bomb", bomb), ("external", external), ("truncated", PACKET[: len(PACKET) // 2])):
        info = PngInfo()
        info.add_itxt("XML:com.adobe.xmp", packet)
        photo(64, 64, seed=len(name)).save(folder / f"{name}.png", pnginfo=info)
    photo(64, 64, seed=7).save(folder / "huge.jpg")
    with open(folder / "huge.jpg.xmp", "wb") as sidecar:  # 50 MB: never read into memory
        sidecar.write(b"<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?>")
        sidecar.truncate(50 << 20)
    outside = tmp_path / "elsewhere.xmp"
    _with_xmp(outside, {"Xmp.dc.subject": ["secret"]})
    photo(64, 64, seed=8).save(folder / "linked.jpg")
    (folder / "linked.xmp").symlink_to(outside)
    report = library.import_paths([folder])
    assert report.skipped == [] and len(report.imported) == 5
    notes = {os.path.basename(i.path): i.notes for i in report.imported}
    for name in ("bomb.png", "external.png", "truncated.png"):
        assert len(notes[name]) == 1 and notes[name][0].startswith("its XMP could not be read"), (name, notes)
    assert notes["huge.jpg"] == ["its sidecar huge.jpg.xmp is 52,428,800 bytes (over 4,194,304): not read"]
    assert notes["linked.jpg"] == ["its sidecar linked.xmp is a link out of its folder: not read"]
    for item in report.imported:
        picture = library.get(item.picture_id)
        assert (picture.tags, picture.captions, picture.rating) == ([], [], 0), item.path  # nothing read
        assert "root:" not in json.dumps(msgspec_builtins(picture))


def msgspec_builtins(value):
    import msgspec

    return msgspec.to_builtins(value)


def test_iptc_iim_keywords_caption_and_title_come_in_and_xmp_s_word_comes_first(library, tmp_path):
    """A JPEG with IPTC-IIM only (as exiv2 writes it for Bridge-era software), and one with both IIM and
    XMP: keywords from both, XMP's description over IIM's caption. An IIM text in ISO 8859-1 reads right."""
    folder = tmp_path / "in"
    folder.mkdir()
    iim = {
        "Iptc.Application2.Keywords": ["harbour", "Ümlaut"],
        "Iptc.Application2.Caption": "Boats at dawn",
        "Iptc.Application2.ObjectName": "Dawn",
    }
    photo(96, 96, seed=1).save(folder / "iim.jpg", quality=90)
    photo(96, 96, seed=2).save(folder / "both.jpg", quality=90)
    for name in ("iim.jpg", "both.jpg"):
        with pyexiv2.Image(str(folder / name)) as image:
            image.modify_iptc(iim)
    _with_xmp(folder / "both.jpg", {"Xmp.dc.subject": ["boats"], "Xmp.dc.description": {'lang="x-default"': "XMP"}})
    photo(96, 96, seed=3).save(folder / "latin1.jpg", quality=90)
    with pyexiv2.Image(str(folder / "latin1.jpg"), encoding="latin-1") as image:
        image.modify_iptc({"Iptc.Application2.Keywords": ["café"]}, encoding="latin-1")
    ids = {os.path.basename(i.path): i.picture_id for i in library.import_paths([folder]).imported}
    only = library.get(ids["iim.jpg"])
    assert sorted(t.name for t in only.tags) == ["harbour", "Ümlaut"]
    assert [(c.source, c.text) for c in only.captions] == [("xmp", "Boats at dawn")]
    both = library.get(ids["both.jpg"])
    assert sorted(t.name for t in both.tags) == ["boats", "harbour", "Ümlaut"]
    assert [c.text for c in both.captions] == ["XMP"]
    assert [t.name for t in library.get(ids["latin1.jpg"]).tags] == ["café"]


def test_a_reference_folder_s_sidecar_changed_by_photo_software_is_read_again_on_rescan(library, tmp_path):
    """darktable changes a sidecar (a keyword taken off, one added, new stars, a description): the rescan
    replaces what the last reading gave and keeps the tag a person added in PixlStash; the sidecar deleted,
    its keywords and caption go."""
    ref = tmp_path / "photos"
    ref.mkdir()
    photo(120, 90, seed=5).save(ref / "boat.jpg", quality=90)
    _with_xmp(ref / "boat.jpg.xmp", {"Xmp.dc.subject": ["harbour", "boat"], "Xmp.xmp.Rating": "2"})
    folder = library.folder_sync.add("reference", ref)
    [item] = library.folder_sync.scan(folder.id).report.imported
    assert sorted(t.name for t in library.get(item.picture_id).tags) == ["boat", "harbour"]
    library.edits.tag([item.picture_id], add=["keeper"])  # a person's own tag

    (ref / "boat.jpg.xmp").unlink()
    _with_xmp(ref / "boat.jpg.xmp", {"Xmp.dc.subject": ["harbour", "dawn"], "Xmp.xmp.Rating": "5",
                                     "Xmp.dc.description": {'lang="x-default"': "First light"}})  # fmt: skip
    stamp = (ref / "boat.jpg.xmp").stat().st_mtime_ns
    os.utime(ref / "boat.jpg.xmp", ns=(stamp + 10**9, stamp + 10**9))  # a later time, whatever the clock's step
    library.folder_sync.scan(folder.id)
    picture = library.get(item.picture_id)
    assert sorted(t.name for t in picture.tags) == ["dawn", "harbour", "keeper"]
    assert picture.rating == 5 and [c.text for c in picture.captions] == ["First light"]
    assert [p.id for p in library.page(PictureFilter(text="first light")).items] == [item.picture_id]

    (ref / "boat.jpg.xmp").unlink()
    library.folder_sync.scan(folder.id)
    picture = library.get(item.picture_id)
    assert [t.name for t in picture.tags] == ["keeper"] and picture.captions == []
    library.folder_sync.scan(folder.id)  # nothing changed: nothing read again
    assert [t.name for t in library.get(item.picture_id).tags] == ["keeper"]


def test_ai_made_pictures_are_known_by_their_source_type_or_their_generation_data(library, tmp_path):
    """A render whose XMP says trainedAlgorithmicMedia (as Adobe Firefly and Google write it), a ComfyUI
    render (generation data), a camera's photo (digitalCapture) and a plain JPEG: "made by generative AI"
    finds the first two, "not AI" the others; the CLI's filter says the same."""
    from conftest import run_cli
    from corpus import a1111_png

    folder = tmp_path / "in"
    folder.mkdir()
    iptc = "http://cv.iptc.org/newscodes/digitalsourcetype/"
    for name, term in (("firefly.jpg", "trainedAlgorithmicMedia"), ("camera.jpg", "digitalCapture")):
        photo(96, 96, seed=len(name)).save(folder / name, quality=90)
        _with_xmp(folder / name, {"Xmp.iptcExt.DigitalSourceType": iptc + term})
    a1111_png(folder / "render.png")
    photo(96, 96, seed=1).save(folder / "plain.jpg", quality=90)
    ids = {os.path.basename(i.path): i.picture_id for i in library.import_paths([folder]).imported}
    assert library.get(ids["firefly.jpg"]).digital_source_type == "trainedAlgorithmicMedia"
    assert library.get(ids["camera.jpg"]).digital_source_type == "digitalCapture"

    def found(**f):
        return sorted(p.id for p in library.page(PictureFilter(**f)).items)

    assert found(ai_generated=True) == sorted([ids["firefly.jpg"], ids["render.png"]])
    assert found(ai_generated=False) == sorted([ids["camera.jpg"], ids["plain.jpg"]])
    root = str(library.root)
    library.close()
    listed = run_cli("ls", "--library", root, "--ai-generated", "--json").stdout
    assert sorted(p["id"] for p in json.loads(listed)["items"]) == sorted([ids["firefly.jpg"], ids["render.png"]])
