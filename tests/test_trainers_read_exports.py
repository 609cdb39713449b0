"""Training exports read by the trainers' own code, each in a venv with its own pins: kohya-ss sd-scripts
(its argument parser, ConfigSanitizer, BlueprintGenerator, DreamBoothDataset and FineTuningDataset,
make_buckets) and ostris ai-toolkit (DatasetConfig and AiToolkitDataset). What each trainer enumerates,
the captions it reads, its repeats and its buckets are compared with what the library holds and the
export asked for."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from consumer_venv import CONSUMERS, consumer_answer, consumer_python, reference
from corpus import photo

from pixlstash.domain import PictureFilter
from pixlstash.training import ExportOptions

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sd_scripts() -> tuple[Path, Path]:
    """(sd-scripts' source, the python of its venv)."""
    source = reference("sd-scripts")
    return source, consumer_python("sd-scripts", CONSUMERS / "sd-scripts-requirements.txt")


def read_with_sd_scripts(sd_scripts, configs: list[tuple[Path, Path]]) -> tuple[list[dict], str]:
    """Each (dataset config, folder the trainer is started in) as sd-scripts reads it: its datasets, or
    the error it stops with; and what sd-scripts logged."""
    source, python = sd_scripts
    return consumer_answer(
        [python, CONSUMERS / "read_with_sd_scripts.py", *[p for pair in configs for p in pair]],
        env={**os.environ, "PYTHONPATH": str(source), "COLUMNS": "1000"},  # its log lines unwrapped
    )


@pytest.fixture(scope="module")
def ai_toolkit() -> tuple[Path, Path]:
    """(ai-toolkit's source, the python of its venv)."""
    source = reference("ai-toolkit")
    requirements = CONSUMERS / "ai-toolkit-requirements.txt"
    return source, consumer_python("ai-toolkit", requirements, without_deps=("torchaudio==2.11.0",))


@pytest.fixture(scope="module")
def curated(tmp_path_factory):
    """A library with pictures as a LoRA set has them: captioned, tagged only, neither; sizes whose
    nearest SDXL buckets are not squares; a GIF and a BMP among them."""
    from pixlstash.library import Library
    from pixlstash.plugins import make_plugin_manager

    root = tmp_path_factory.mktemp("curated")
    folder = root / "pictures"
    folder.mkdir()
    photo(1200, 820, seed=1).save(folder / "wide.png")
    photo(830, 1210, seed=2).save(folder / "tall.jpg", quality=90)
    photo(700, 700, seed=3).save(folder / "square.gif")
    photo(900, 600, seed=4).save(folder / "plain.bmp")
    library = Library.open(root / "library", plugin_manager=make_plugin_manager(load_entry_points=False))
    ids = {Path(p.path).name: p.picture_id for p in library.import_paths([folder]).imported}
    library.edits.caption(ids["wide.png"], "a wide photo of a meadow")
    library.edits.tag([ids["tall.jpg"], ids["square.gif"]], add=["solo", "outdoors"])
    yield library, ids, PictureFilter(ids=list(ids.values()))
    library.close()


def test_sd_scripts_reads_every_picture_caption_repeat_and_bucket_as_exported(curated, sd_scripts, tmp_path):
    library, ids, selection = curated
    kohya = ExportOptions(trigger="ohwx", repeats=10, bucket_resolution=1024)
    library.training.write_folder(library.training.plan(selection, kohya), kohya, tmp_path / "kohya")
    flat = ExportOptions(relative_paths=True)  # no trigger: the blank picture gets no caption file
    flat_plan = library.training.plan(selection, flat)
    library.training.write_folder(flat_plan, flat, tmp_path / "flat")
    # sd-scripts' fine-tuning method, from metadata.jsonl.
    (tmp_path / "finetune.toml").write_text(
        f'[[datasets]]\nresolution = 1024\n\n  [[datasets.subsets]]\n  image_dir = "{tmp_path / "flat"}"\n'
        f'  metadata_file = "{tmp_path / "flat" / "metadata.jsonl"}"\n'
    )
    # What the export must never write: an empty caption file stops sd-scripts before training.
    (tmp_path / "broken").mkdir()
    photo(64, 64).save(tmp_path / "broken" / "1.png")
    (tmp_path / "broken" / "1.txt").write_bytes(b"")
    (tmp_path / "broken.toml").write_text(
        f'[general]\ncaption_extension = ".txt"\n\n[[datasets]]\nresolution = 512\n\n'
        f'  [[datasets.subsets]]\n  image_dir = "{tmp_path / "broken"}"\n'
    )
    elsewhere = tmp_path / "elsewhere"  # where a user starts the trainer: not the export's folder
    elsewhere.mkdir()
    (repeat, relative, finetune, empty), log = read_with_sd_scripts(
        sd_scripts,
        [
            (tmp_path / "kohya" / "dataset.toml", elsewhere),
            (tmp_path / "flat" / "dataset.toml", tmp_path / "flat"),
            (tmp_path / "finetune.toml", elsewhere),
            (tmp_path / "broken.toml", elsewhere),
        ],
    )
    assert "caption file is empty" in empty["error"]

    # The repeat layout with buckets: every picture (GIF and BMP converted), caption as written, ten
    # repeats, and each picture's bucket exactly its exported size (nothing re-bucketed).
    [dataset] = repeat["datasets"]
    assert dataset["kind"] == "DreamBoothDataset" and dataset["class_tokens"] == ["ohwx"]
    folder = tmp_path / "kohya" / "10_ohwx"
    images = {Path(i["path"]).name: i for i in dataset["images"]}
    assert set(images) == {f"{ids['wide.png']}.png", f"{ids['tall.jpg']}.jpg"} | {
        f"{ids[n]}.png" for n in ("square.gif", "plain.bmp")
    }
    for name, image in images.items():
        assert Path(image["path"]).parent == folder and image["repeats"] == 10
        assert image["caption"] == (folder / name).with_suffix(".txt").read_text().strip()
        assert image["bucket"] == image["size"]
    assert images[f"{ids['wide.png']}.png"]["size"] == [1216, 832]
    assert images[f"{ids['wide.png']}.png"]["caption"] == "ohwx, a wide photo of a meadow"
    assert images[f"{ids['tall.jpg']}.jpg"]["caption"] == "ohwx, outdoors, solo"
    assert images[f"{ids['plain.bmp']}.png"]["caption"] == "ohwx"
    assert repeat["images"] == 40

    # Relative paths, started in the export's folder; the blank picture has no caption file and is
    # trained with an empty caption (sd-scripts says so and goes on).
    [dataset] = relative["datasets"]
    captions = {Path(i["path"]).stem: i["caption"] for i in dataset["images"]}
    assert captions == {str(f.picture_id): f.caption for f in flat_plan.files}
    assert captions[str(ids["plain.bmp"])] == "" and flat_plan.uncaptioned == [ids["plain.bmp"]]
    assert "neither caption file nor class tokens are found" in log

    # metadata.jsonl is sd-scripts' fine-tuning metadata: the same pictures and captions.
    [dataset] = finetune["datasets"]
    assert dataset["kind"] == "FineTuningDataset"
    assert {Path(i["path"]).stem: i["caption"] for i in dataset["images"]} == captions


def test_ai_toolkit_reads_every_picture_caption_repeat_and_bucket_as_exported(curated, ai_toolkit, tmp_path):
    library, ids, selection = curated
    options = ExportOptions(repeats=3, bucket_resolution=1024)  # no trigger: the blank picture has no file
    plan = library.training.plan(selection, options)
    library.training.write_folder(plan, options, tmp_path / "export")
    source, python = ai_toolkit
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    datasets, _ = consumer_answer(
        [python, CONSUMERS / "read_with_ai_toolkit.py", tmp_path / "export" / "ai-toolkit.yaml"],
        cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": str(source)},
    )
    assert [d["resolution"] for d in datasets] == [512, 768, 1024]  # one dataset per resolution, as configured
    folder = tmp_path / "export" / "3_pictures"
    expected = {str(folder / f.image.split("/")[-1]): f.caption for f in plan.files}
    assert len(expected) == 4 and set(Path(p).suffix for p in expected) == {".png", ".jpg"}  # GIF, BMP: PNG
    for dataset in datasets:
        items = dataset["items"]
        assert sorted(i["path"] for i in items) == sorted(list(expected) * 3)  # every picture, three repeats
        assert {i["path"]: i["caption"].strip() for i in items} == expected
    assert expected[str(folder / f"{ids['plain.bmp']}.png")] == ""  # no caption file: ai-toolkit's empty one
    for item in datasets[2]["items"]:
        assert item["bucket"] == item["size"]  # at 1024 every exported size is its own bucket


def export_cutout(tmp_path: Path, side: int) -> None:
    """A cut-out (transparent black around an opaque red square, half the side) exported twice: on the
    default white background (tmp_path/white) and with its transparency kept (tmp_path/alpha)."""
    import numpy as np
    from PIL import Image

    from pixlstash.library import Library
    from pixlstash.plugins import make_plugin_manager

    folder = tmp_path / "pictures"
    folder.mkdir()
    pixels = np.zeros((side, side, 4), dtype=np.uint8)  # transparent black around ...
    pixels[side // 4 : side * 3 // 4, side // 4 : side * 3 // 4] = (220, 20, 20, 255)  # ... a red square
    Image.fromarray(pixels, "RGBA").save(folder / "cutout.png")
    with Library.open(tmp_path / "lib", plugin_manager=make_plugin_manager(load_entry_points=False)) as library:
        [picture] = library.import_paths([folder]).imported
        library.edits.caption(picture.picture_id, "a red square")
        selection = PictureFilter(ids=[picture.picture_id])
        for name, options in (("white", ExportOptions()), ("alpha", ExportOptions(transparency="alpha"))):
            library.training.write_folder(library.training.plan(selection, options), options, tmp_path / name)


def test_transparent_pixels_reach_sd_scripts_on_the_background_or_as_its_alpha_mask(sd_scripts, tmp_path):
    """A cut-out (transparent around a red square, the hidden colour black) is composited on white by
    default, as sd-scripts' own ``load_image`` then reads it; asked to keep alpha, the export keeps it and
    dataset.toml turns on sd-scripts' ``alpha_mask``, which its config reader accepts."""
    export_cutout(tmp_path, 96)
    source, python = sd_scripts
    script = (
        "import json, sys\nfrom library.train_util import load_image\n"
        "out = {}\nfor path in sys.argv[1:]:\n"
        "    image = load_image(path)\n"  # its default: alpha=False, as training loads images
        "    masked = load_image(path, True)\n"
        "    out[path] = [image[2][2].tolist(), image[48][48].tolist(), masked.shape[2], masked[2][2].tolist()]\n"
        "print(json.dumps(out))\n"
    )
    white, alpha = (next((tmp_path / name).rglob("*.png")) for name in ("white", "alpha"))
    read, _ = consumer_answer([python, "-c", script, white, alpha], env={**os.environ, "PYTHONPATH": str(source)})
    corner, centre, _, _ = read[str(white)]
    assert corner == [255, 255, 255] and centre == [220, 20, 20]  # on white, never the hidden black
    _, _, channels, masked_corner = read[str(alpha)]
    assert channels == 4 and masked_corner[3] == 0  # the mask sd-scripts reads with alpha_mask
    toml = (tmp_path / "alpha" / "dataset.toml").read_text()
    assert "alpha_mask = true" in toml and "alpha_mask" not in (tmp_path / "white" / "dataset.toml").read_text()
    (configs,), _ = read_with_sd_scripts(sd_scripts, [(tmp_path / "alpha" / "dataset.toml", tmp_path)])
    assert "error" not in configs, configs  # its ConfigSanitizer accepts alpha_mask
    [dataset] = configs["datasets"]
    assert [Path(i["path"]).name for i in dataset["images"]] == [alpha.name]


def test_transparent_pixels_reach_ai_toolkit_on_the_background_or_as_its_alpha_mask(ai_toolkit, tmp_path):
    """The same cut-out through ai-toolkit's own image loading (FileItemDTO.load_and_process_image, which
    converts to RGB): on white by default; with transparency kept, ai-toolkit.yaml turns on its
    ``alpha_mask`` and its mask loader reads the transparent corner as masked out."""
    export_cutout(tmp_path, 1024)  # 1024: ai-toolkit's largest bucket, the picture unscaled
    source, python = ai_toolkit
    configs = [str(tmp_path / name / "ai-toolkit.yaml") for name in ("white", "alpha")]
    loaded, _ = consumer_answer(
        [python, CONSUMERS / "load_with_ai_toolkit.py", *configs],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(source), str(CONSUMERS)])},
        cwd=tmp_path,
        timeout=600,
    )
    [white], [alpha] = (found.values() for found in loaded)
    read = {"white": white, "alpha": alpha}
    assert read["white"]["corner"] == [255, 255, 255]  # on white, never the hidden black
    assert read["white"]["centre"] == [220, 20, 20] and read["white"]["mask_corner"] is None
    assert "alpha_mask: true" in (tmp_path / "alpha" / "ai-toolkit.yaml").read_text()
    assert read["alpha"]["mask_corner"] == 0.0  # ai-toolkit's mask: the transparent corner is left out


def export_mixed(tmp_path: Path) -> dict[str, Path]:
    """A folder as a cut-out LoRA set is: a photo (JPEG), an opaque PNG and a cut-out PNG, exported with
    their transparency kept. Returns each exported image by what it was."""
    import numpy as np
    from PIL import Image

    from pixlstash.library import Library
    from pixlstash.plugins import make_plugin_manager

    folder = tmp_path / "pictures"
    folder.mkdir()
    photo(512, 512, seed=1).save(folder / "photo.jpg", quality=92)
    photo(512, 512, seed=2).save(folder / "opaque.png")
    pixels = np.zeros((512, 512, 4), dtype=np.uint8)
    pixels[128:384, 128:384] = (220, 20, 20, 255)
    Image.fromarray(pixels, "RGBA").save(folder / "cutout.png")
    options = ExportOptions(transparency="alpha", names="original")
    with Library.open(tmp_path / "lib", plugin_manager=make_plugin_manager(load_entry_points=False)) as library:
        imported = library.import_paths([folder]).imported
        selection = PictureFilter(ids=[p.picture_id for p in imported])
        library.training.write_folder(library.training.plan(selection, options), options, tmp_path / "alpha")
    exported = {p.stem: p for p in (tmp_path / "alpha").rglob("*") if p.suffix in (".png", ".jpg")}
    assert sorted(p.name for p in exported.values()) == ["cutout.png", "opaque.png", "photo.png"]  # no JPEG
    return exported


def test_a_mixed_folder_with_transparency_kept_loads_in_ai_toolkit_every_picture_with_its_mask(ai_toolkit, tmp_path):
    """ai-toolkit's ``alpha_mask`` is set for the whole folder and its ``load_mask_image`` takes the fourth
    channel of every image: a JPEG among them stopped the run (could not broadcast ... (50,60,0)). Every
    image is now RGBA: the photo and the opaque PNG train whole, the cut-out's transparent corner is out."""
    exported = export_mixed(tmp_path)
    source, python = ai_toolkit
    [found], _ = consumer_answer(
        [python, CONSUMERS / "load_with_ai_toolkit.py", tmp_path / "alpha" / "ai-toolkit.yaml"],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(source), str(CONSUMERS)])},
        cwd=tmp_path / "alpha",
        timeout=600,
    )
    read = {Path(path).stem: item for path, item in found.items()}
    assert set(read) == set(exported)
    assert read["photo"]["mask_corner"] == read["opaque"]["mask_corner"] == 1.0  # trained whole
    assert read["cutout"]["mask_corner"] == 0.0 and read["cutout"]["centre"] == [220, 20, 20]


def test_a_mixed_folder_with_transparency_kept_loads_in_sd_scripts_with_its_alpha_mask(sd_scripts, tmp_path):
    """The same folder through sd-scripts' ``load_image(path, alpha=True)`` (as its alpha_mask caching
    loads): four channels each, opaque where the picture was, the photo's pixels those of its JPEG."""
    from PIL import Image

    exported = export_mixed(tmp_path)
    source, python = sd_scripts
    script = (
        "import json, sys\nfrom library.train_util import load_image\n"
        "print(json.dumps({p: load_image(p, True)[[0, 256], [0, 256]].tolist() for p in sys.argv[1:]}))\n"
    )
    answer, _ = consumer_answer(
        [python, "-c", script, *exported.values()], env={**os.environ, "PYTHONPATH": str(source)}
    )
    read = {Path(path).stem: pixels for path, pixels in answer.items()}
    assert [corner[3] for corner, _ in read.values()] == [
        0 if name == "cutout" else 255 for name in read
    ]  # alpha: out only where it was transparent
    with Image.open(tmp_path / "pictures" / "photo.jpg") as jpeg:
        assert read["photo"][1][:3] == list(jpeg.convert("RGB").getpixel((256, 256)))  # the JPEG's decoded pixels
    (configs,), _ = read_with_sd_scripts(sd_scripts, [(tmp_path / "alpha" / "dataset.toml", tmp_path)])
    assert "error" not in configs, configs
    [dataset] = configs["datasets"]
    assert sorted(Path(i["path"]).name for i in dataset["images"]) == sorted(p.name for p in exported.values())
