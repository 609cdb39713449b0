"""PixlStash nodes for ComfyUI: search your PixlStash library (likeness of pictures or faces, text), load
pictures from it, save generations into it, and curate a batch by likeness. They talk to a PixlStash
server over HTTP; the server URL and token come from the environment (PIXLSTASH_URL, PIXLSTASH_TOKEN) or
the PixlStash page of ComfyUI's settings, which keeps them where ComfyUI does not serve them (see
connection.py); never from node inputs."""

from .nodes_library import CharacterPicker, PictureList, PictureLoader, PictureSaver, ProjectPicker, SetPicker
from .nodes_search import LikenessGate, LikenessSearch, SemanticSearch
from .routes import register

register()  # the settings dialog's route, when ComfyUI's server is there

NODE_CLASS_MAPPINGS = {
    "PixlStashLikenessSearch": LikenessSearch,
    "PixlStashSemanticSearch": SemanticSearch,
    "PixlStashPictureSaver": PictureSaver,
    "PixlStashPictureLoader": PictureLoader,
    "PixlStashPictureList": PictureList,
    "PixlStashProjectPicker": ProjectPicker,
    "PixlStashSetPicker": SetPicker,
    "PixlStashCharacterPicker": CharacterPicker,
    "PixlStashLikenessGate": LikenessGate,
}

NODE_DISPLAY_NAME_MAPPINGS = {
    "PixlStashLikenessSearch": "PixlStash Likeness Search",
    "PixlStashSemanticSearch": "PixlStash Semantic Search",
    "PixlStashPictureSaver": "PixlStash Picture Saver",
    "PixlStashPictureLoader": "PixlStash Picture Loader",
    "PixlStashPictureList": "PixlStash Picture List",
    "PixlStashProjectPicker": "PixlStash Project",
    "PixlStashSetPicker": "PixlStash Set",
    "PixlStashCharacterPicker": "PixlStash Character",
    "PixlStashLikenessGate": "PixlStash Likeness Gate",
}

WEB_DIRECTORY = "./web"  # the PixlStash page of ComfyUI's settings dialog

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "WEB_DIRECTORY"]
