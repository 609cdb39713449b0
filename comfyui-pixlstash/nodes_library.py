"""Library nodes: Picture Saver (an IMAGE batch into the library, with the workflow embedded as ComfyUI's
SaveImage embeds it), Picture Loader and Picture List (pictures out of the library, as one batch or one
at a time), and the Project / Set / Character pickers."""

from __future__ import annotations

import os
import uuid

from .client import PixlStashError
from .common import CATEGORY, COLLECTIONS, PROJECT, choices, fetch_images, parse_ids, picked_id
from .connection import connect
from .images import BATCH_RULES, batch, empty_batch, nothing, pictures_of, png_with_workflow, single

__all__ = ["CharacterPicker", "PictureList", "PictureLoader", "PictureSaver", "ProjectPicker", "SetPicker"]

SORTS = ["taken_at", "imported_at", "rating", "file_size", "pixels", "random"]


def _label(item: dict) -> str:
    return f"{item['name']}  #{item['id']}"


class _CollectionPicker:
    KIND = "set"
    PATH = "/sets"
    RETURN_TYPES = (COLLECTIONS,)
    RETURN_NAMES = ("collections",)
    FUNCTION = "pick"
    CATEGORY = f"{CATEGORY}/pickers"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {cls.KIND: (choices(cls.PATH, _label),)},
            "optional": {"and": (COLLECTIONS, {"tooltip": "sets and characters picked before, to use together"})},
        }

    def pick(self, **inputs):
        chosen = picked_id(inputs[self.KIND], self.KIND)
        item = connect().get(f"{self.PATH}/{chosen}")
        return ([*(inputs.get("and") or []), {"id": item["id"], "kind": self.KIND, "name": item["name"]}],)


class SetPicker(_CollectionPicker):
    DESCRIPTION = "A set from the library (press Refresh for new ones); chain pickers to use several together."


class CharacterPicker(_CollectionPicker):
    KIND = "character"
    PATH = "/characters"
    DESCRIPTION = "A character from the library (press Refresh for new ones); chain pickers to use several."


class ProjectPicker:
    RETURN_TYPES = (PROJECT,)
    RETURN_NAMES = ("project",)
    FUNCTION = "pick"
    CATEGORY = f"{CATEGORY}/pickers"
    DESCRIPTION = "A project from the library (press Refresh for new ones)."

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"project": (choices("/projects", _label),)}}

    def pick(self, project):
        item = connect().get(f"/projects/{picked_id(project, 'project')}")
        return ({"id": item["id"], "name": item["name"]},)


class PictureSaver:
    """An IMAGE batch saved into the library as PNGs that carry the workflow."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ("STRING",)
    RETURN_NAMES = ("ids",)
    FUNCTION = "save"
    OUTPUT_NODE = True
    DESCRIPTION = (
        "Saves images into your PixlStash library as PNGs with the prompt and workflow embedded exactly as "
        "ComfyUI's Save Image does (PixlStash reads the prompt, checkpoint, LoRAs and seed from them), filed "
        "into a project, sets and characters, with tags. Needs a token with the write scope."
    )

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "images": ("IMAGE",),
                "filename_prefix": ("STRING", {"default": "ComfyUI"}),
                "tags": ("STRING", {"default": "", "tooltip": "comma separated"}),
            },
            "optional": {"project": (PROJECT,), "collections": (COLLECTIONS,)},
            "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"},
        }

    def save(self, images, filename_prefix, tags, project=None, collections=None, prompt=None, extra_pnginfo=None):
        if _metadata_disabled():  # ComfyUI's --disable-metadata holds for this saver too
            prompt, extra_pnginfo = None, None
        if images.shape[0] == 0:  # nothing passed upstream: nothing to save, and no error
            return {"ui": {"images": []}, "result": ("",)}
        client = connect()
        stem = "".join(c for c in filename_prefix if c.isalnum() or c in "-_ ").strip() or "ComfyUI"
        pictures = pictures_of(images)
        files = [
            ("file", (f"{stem}_{n:05d}.png", png_with_workflow(image, prompt, extra_pnginfo), "image/png"))
            for n, image in enumerate(pictures, start=1)
        ]
        fields = {}
        if project:
            fields["project_id"] = str(project["id"])
        if collections:
            fields["collection_ids"] = ",".join(str(c["id"]) for c in collections)
        try:
            report = client.post_files("/uploads", fields, files)
        except PixlStashError as error:
            if "(403)" in str(error):
                raise PixlStashError(
                    "the Picture Saver needs a token with the write scope; this one may only read: create one "
                    "with `pixlstash token create --scope write`"
                ) from None
            raise
        if report["skipped"]:
            raise PixlStashError(f"PixlStash refused a picture: {report['skipped'][0]['reason']}")
        ids = [p["picture_id"] for p in report["imported"] + report["duplicates"] + report["restored"]]
        names = [t.strip() for t in tags.split(",") if t.strip()]
        if names and ids:
            client.post("/pictures/bulk", {"ids": ids, "operation": {"action": "tag", "tags": names}})
        return {"ui": {"images": _previews(pictures)}, "result": (",".join(map(str, ids)),)}


def _metadata_disabled() -> bool:
    try:
        from comfy.cli_args import args
    except ImportError:
        return False
    return bool(getattr(args, "disable_metadata", False))


def _previews(pictures) -> list[dict]:
    """Previews in ComfyUI's temporary folder, as its PreviewImage writes them, for the node to show."""
    try:
        import folder_paths
    except ImportError:
        return []
    folder = folder_paths.get_temp_directory()
    os.makedirs(folder, exist_ok=True)
    shown = []
    for image in pictures:
        name = f"pixlstash_{uuid.uuid4().hex[:12]}.png"
        image.save(os.path.join(folder, name), compress_level=1)
        shown.append({"filename": name, "subfolder": "", "type": "temp"})
    return shown


class PictureLoader:
    """Pictures out of the library as one batch, with their captions and tags."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ("IMAGE", "MASK", "STRING", "STRING", "STRING")
    RETURN_NAMES = ("images", "masks", "ids", "captions", "tags")
    FUNCTION = "load"
    DESCRIPTION = (
        "Loads pictures by ids, from sets, characters or a project, or by tags and rating, sorted and limited. "
        "Pictures of different sizes become one batch by the batch rule (padding is masked); captions and "
        "tags come one line per picture."
    )

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "tags": ("STRING", {"default": "", "tooltip": "pictures with all these tags (comma separated)"}),
                "min_rating": ("INT", {"default": 0, "min": 0, "max": 5}),
                "sort": (SORTS, {"default": "taken_at"}),
                "descending": ("BOOLEAN", {"default": True}),
                "limit": ("INT", {"default": 8, "min": 1, "max": 1000}),
                "seed": (
                    "INT",
                    # A fixed seed by default: "randomize" would give a new random order on every queue.
                    {
                        "default": 0,
                        "min": 0,
                        "max": 0x7FFFFFFFFFFFFFFF,
                        "tooltip": "for sort: random",
                        "control_after_generate": False,
                    },
                ),
                "batch_rule": (BATCH_RULES, {"default": "pad to largest"}),
            },
            "optional": {
                "picture_ids": ("STRING", {"default": ""}),
                "collections": (COLLECTIONS, {"tooltip": "pictures in any of these sets or characters"}),
                "project": (PROJECT,),
                "edited": (
                    "BOOLEAN",
                    {"default": True, "tooltip": "as edited in PixlStash (turned, cropped); off: the original files"},
                ),
            },
        }

    @classmethod
    def IS_CHANGED(cls, **_):
        return float("nan")

    def load(
        self,
        tags,
        min_rating,
        sort,
        descending,
        limit,
        seed,
        batch_rule,
        picture_ids="",
        collections=None,
        project=None,
        edited=True,
    ):
        client, pictures = _select(tags, min_rating, sort, descending, limit, seed, picture_ids, collections, project)
        if pictures:
            images, masks = batch(fetch_images(client, pictures, edited), batch_rule)
        else:
            images, masks = (nothing(empty) for empty in empty_batch())
        details = [client.get(f"/pictures/{p['id']}") for p in pictures]
        return (
            images,
            masks,
            ",".join(str(p["id"]) for p in pictures),
            "\n".join(_caption(d).replace("\n", " ") for d in details),
            "\n".join(", ".join(t["name"] for t in d["tags"]) for d in details),
        )


class PictureList(PictureLoader):
    """The same pictures one at a time, each at its own size: ComfyUI runs the nodes after it once per picture."""

    RETURN_NAMES = ("image", "mask", "id", "caption", "tags")
    OUTPUT_IS_LIST = (True, True, True, True, True)
    FUNCTION = "load_list"
    DESCRIPTION = (
        "Loads pictures like the Picture Loader, but as a list: each picture keeps its own size and the nodes "
        "after this one run once per picture."
    )

    @classmethod
    def INPUT_TYPES(cls):
        inputs = PictureLoader.INPUT_TYPES()
        del inputs["required"]["batch_rule"]
        return inputs

    def load_list(
        self,
        tags,
        min_rating,
        sort,
        descending,
        limit,
        seed,
        picture_ids="",
        collections=None,
        project=None,
        edited=True,
    ):
        client, pictures = _select(tags, min_rating, sort, descending, limit, seed, picture_ids, collections, project)
        if not pictures:  # an empty list would make ComfyUI index into nothing: block what follows instead
            blocked = nothing(None)
            return tuple([] if blocked is None else [blocked] for _ in self.RETURN_TYPES)
        images, masks, ids, captions, tag_lines = [], [], [], [], []
        for picture, image in zip(pictures, fetch_images(client, pictures, edited), strict=True):
            detail = client.get(f"/pictures/{picture['id']}")
            tensor, mask = single(image)
            images.append(tensor)
            masks.append(mask)
            ids.append(str(picture["id"]))
            captions.append(_caption(detail))
            tag_lines.append(", ".join(t["name"] for t in detail["tags"]))
        return images, masks, ids, captions, tag_lines


def _caption(detail: dict) -> str:
    captions = detail.get("captions") or []
    chosen = next((c for c in captions if c.get("source") == "user"), captions[0] if captions else None)
    return chosen["text"] if chosen else ""


def _select(tags, min_rating, sort, descending, limit, seed, picture_ids, collections, project):
    client = connect()
    params = {
        "tags": [t.strip() for t in tags.split(",") if t.strip()],
        "rating_min": min_rating or None,
        "collections": [c["id"] for c in collections or []],
        "project": project["id"] if project else None,
        "sort": sort,
        "descending": descending,
        "seed": seed,
        "limit": limit,
    }
    wanted = parse_ids(picture_ids)
    if wanted:
        params["ids"] = wanted
    pictures = client.get("/pictures", params)["items"]
    if wanted:  # in the order given
        order = {pid: n for n, pid in enumerate(wanted)}
        pictures.sort(key=lambda p: order[p["id"]])
    return client, pictures
