"""Midjourney's files as its website writes them (issue 63): a PNG download carries the command in a
``Description`` text chunk ending ``Job ID: <uuid>``, the account in ``Author``, ``Creation Time``, and an
XMP packet (written by exiv2) with IPTC's digital image GUID and digital source type; its JPEG downloads
keep the same command in the XMP's ``dc:description`` and the account in ``dc:creator``. Such files came in
with no generation data, and the JPEG's command became its caption."""

from __future__ import annotations

import os

import pyexiv2
from corpus import photo
from PIL.PngImagePlugin import PngInfo

from pixlstash.domain import PictureFilter

JOB = "a7421d2f-b262-44f9-977c-ac23e9c7d3e3"
COMMAND = f"a red fox asleep in fresh snow, golden hour --ar 3:2 --no trees, fence --seed 1234 --v 6.1 Job ID: {JOB}"
PACKET = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:iptcExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
   iptcExt:DigImageGUID="{guid}"
   iptcExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"/>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""


def _png(path, description: str, author: str = "foxfan") -> None:
    info = PngInfo()
    info.add_text("Author", author)
    info.add_text("Description", description)
    info.add_text("Creation Time", "2024-05-07T15:17:47.000Z")
    info.add_itxt("XML:com.adobe.xmp", PACKET.format(guid=JOB))
    photo(96, 64, seed=len(description)).save(path, pnginfo=info)


def _jpeg(path, description: str, seed: int) -> None:
    photo(96, 64, seed=seed).save(path, quality=85)
    with pyexiv2.Image(str(path)) as image:
        image.modify_xmp(
            {
                "Xmp.dc.description": {'lang="x-default"': description},
                "Xmp.dc.creator": ["foxfan"],
                "Xmp.iptcExt.DigImageGUID": JOB,
                "Xmp.iptcExt.DigitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
            }
        )


def test_midjourney_png_and_jpeg_give_prompt_negative_model_seed_and_its_account(library, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    _png(folder / "fox.png", COMMAND)
    _png(folder / "niji.png", f"chibi fox knight --niji 6 --style raw --tile Job ID: {JOB.upper()}")
    _jpeg(folder / "fox.jpg", COMMAND, seed=3)
    _jpeg(folder / "beach.jpg", "Bruno at Formby --the dog's first swim", seed=4)  # a photo's own caption
    report = library.import_paths([folder])
    assert report.skipped == [] and all(i.notes == [] for i in report.imported), report
    ids = {os.path.basename(i.path): i.picture_id for i in report.imported}
    for name in ("fox.png", "fox.jpg"):
        picture = library.get(ids[name])
        g = picture.generation
        assert (g.tool, g.positive, g.negative, g.checkpoint, g.seed) == (
            "midjourney", "a red fox asleep in fresh snow, golden hour", "trees, fence", "Midjourney v6.1", "1234"
        ), name  # fmt: skip
        assert g.raw_parameters == f"{COMMAND}\nAuthor: foxfan", name
        assert picture.captions == [], name  # the command is the prompt, not a caption
    niji = library.get(ids["niji.png"]).generation
    assert (niji.positive, niji.checkpoint, niji.negative, niji.seed) == ("chibi fox knight", "Niji 6", "", None)
    beach = library.get(ids["beach.jpg"])
    assert beach.generation is None
    assert [c.text for c in beach.captions] == ["Bruno at Formby --the dog's first swim"]
    made = {ids[n] for n in ("fox.png", "niji.png", "fox.jpg")}
    assert {p.id for p in library.page(PictureFilter(text="fox snow golden")).items} == {ids["fox.png"], ids["fox.jpg"]}
    assert {p.id for p in library.page(PictureFilter(text="foxfan")).items} == made  # the account, searchable
    assert {p.id for p in library.page(PictureFilter(checkpoint="Midjourney v6.1")).items} == {
        ids["fox.png"], ids["fox.jpg"]
    }  # fmt: skip


def test_hostile_midjourney_descriptions_are_read_as_far_as_they_go(library, tmp_path):
    """No Job ID, a Job ID that is not a UUID, a megabyte of spaces before it, a hundred thousand
    parameters: the picture comes in each time, with what could be read."""
    folder = tmp_path / "in"
    folder.mkdir()
    cases = {
        "no-job.png": "a fox --v 6",
        "bad-job.png": "a fox --v 6 Job ID: not-a-uuid",
        "spaces.png": "a fox" + " " * 1_000_000 + f"Job ID: {JOB}",
        "flags.png": "a fox " + "--x " * 100_000 + f"--v 7 Job ID: {JOB}",
    }
    for name, description in cases.items():
        _png(folder / name, description)
    report = library.import_paths([folder])
    assert report.skipped == [] and len(report.imported) == 4
    generation = {os.path.basename(i.path): library.get(i.picture_id).generation for i in report.imported}
    assert generation["no-job.png"] is None and generation["bad-job.png"] is None
    assert (generation["spaces.png"].positive, generation["spaces.png"].checkpoint) == ("a fox", "Midjourney")
    assert (generation["flags.png"].positive, generation["flags.png"].checkpoint) == ("a fox", "Midjourney v7")
