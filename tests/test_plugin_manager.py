from __future__ import annotations

import pytest
from PIL import Image

from pixlstash import EngineRegistry, PluginError, Tagger, TagScore, hookimpl, make_plugin_manager
from pixlstash.builtin.local_storage import LocalFolderStore
from pixlstash.engines import Task


def test_builtins_are_registered_like_plugins(plugin_manager):
    names = {info.name: info for info in plugin_manager.plugin_infos()}
    assert names["local-storage"].builtin
    assert names["local-storage"].hooks == ["make_original_store"]
    assert names["watermark"].hooks == ["register_share_transforms"]


def test_local_storage_is_the_trylast_default(plugin_manager, tmp_path):
    store = plugin_manager.hook.make_original_store(library_root=tmp_path, settings={})
    assert isinstance(store, LocalFolderStore)

    class OtherStore(LocalFolderStore):
        id = "other"

    class OtherStorePlugin:
        @hookimpl
        def make_original_store(self, library_root, settings):
            return OtherStore(library_root / "elsewhere")

    plugin_manager.register(OtherStorePlugin())
    assert plugin_manager.hook.make_original_store(library_root=tmp_path, settings={}).id == "other"


def test_disabled_plugins_env_skips_builtins():
    pm = make_plugin_manager(load_entry_points=False, environ={"PIXLSTASH_DISABLED_PLUGINS": "watermark"})
    assert not pm.has_plugin("watermark")
    assert pm.has_plugin("local-storage")


def test_check_pending_catches_misspelt_hooks(plugin_manager):
    class Misspelt:
        @hookimpl
        def register_tagers(self, register):  # missing "g"
            pass

    plugin_manager.register(Misspelt())
    with pytest.raises(Exception, match="unknown hook 'register_tagers'"):
        plugin_manager.check_pending()


def test_fake_engines_register_through_the_real_hooks(plugin_manager, fake_engines):
    registry = EngineRegistry.from_plugin_manager(plugin_manager)
    assert [engine.id for engine in registry.engines(Task.EMBEDDER)] == ["fake/colour"]
    assert registry.get("tagger").id == "fake/colour-tagger"
    assert registry.get("captioner", "fake/captioner") is fake_engines.captioner
    assert registry.get("faces").dimensions == 4


def test_registry_rejects_a_wrong_type_and_a_bad_id(plugin_manager):
    class NotATagger:
        id = "x/y"

    class Wrong:
        @hookimpl
        def register_taggers(self, register):
            register(NotATagger())

    plugin_manager.register(Wrong())
    with pytest.raises(PluginError, match="not a Tagger"):
        EngineRegistry.from_plugin_manager(plugin_manager)

    class BadId(Tagger):
        id = "no slash"

        def tag(self, images):
            return [[] for _ in images]

    registry = EngineRegistry()
    with pytest.raises(PluginError, match="plugin/model"):
        registry.add(BadId())


def test_registry_rejects_duplicate_ids():
    class One(Tagger):
        id = "dup/one"

        def tag(self, images):
            return [[TagScore("x", 1.0)] for _ in images]

    registry = EngineRegistry([One()])
    with pytest.raises(PluginError, match="share the id"):
        registry.add(One())


def test_unknown_engine_names_the_known_ones(plugin_manager, fake_engines):
    registry = EngineRegistry.from_plugin_manager(plugin_manager)
    with pytest.raises(Exception, match="known: fake/colour"):
        registry.get("embedder", "clip/ViT-B-32")


def test_fake_embedder_vectors_are_exact(fake_engines):
    red = Image.new("RGB", (8, 8), (255, 0, 0))
    grey = Image.new("RGB", (8, 8), (128, 128, 128))
    vectors = fake_engines.embedder.embed_images([red, grey])
    norm = (1 + 0.05**2) ** 0.5
    assert vectors.dtype.name == "float32"
    assert vectors[0].tolist() == pytest.approx([1 / norm, 0, 0, 0.05 / norm])
    text = fake_engines.embedder.embed_texts(["red"])[0]
    assert text.tolist() == pytest.approx(vectors[0].tolist())
    assert fake_engines.embedder.supports_text


def test_fake_tagger_captioner_faces(fake_engines):
    red = Image.new("RGB", (40, 20), (230, 10, 10))
    black = Image.new("RGB", (40, 20), (0, 0, 0))
    assert [t.name for t in fake_engines.tagger.tag([red])[0]] == ["red", "dark"]
    assert fake_engines.captioner.describe([red], prompt="short") == ["a red picture, 40x20 (short)"]
    faces = fake_engines.face_extractor.extract([red, black])
    assert len(faces[0]) == 1 and faces[1] == []
    assert faces[0][0].box == (10.0, 5.0, 30.0, 15.0)


def test_watermark_changes_pixels_only_when_asked(plugin_manager, tmp_path):
    from pixlstash.sharing import ShareContext

    transforms = []
    plugin_manager.hook.register_share_transforms(register=transforms.append)
    (watermark,) = transforms
    image = Image.new("RGB", (200, 100), (0, 0, 120))
    plain = ShareContext(share_id=1, scope_type="set", scope_id=3)
    assert watermark.apply(image, plain) is image
    marked = watermark.apply(image, ShareContext(1, "set", 3, {"watermark": {"text": "(c) me"}}))
    assert marked.size == image.size and marked.mode == "RGB"
    assert marked.tobytes() != image.tobytes()
    Image.new("RGBA", (20, 20), (255, 255, 0, 255)).save(tmp_path / "logo.png")
    spec = {"image": str(tmp_path / "logo.png"), "opacity": 1.0, "position": "top-left"}
    with_logo = watermark.apply(image, ShareContext(1, "set", 3, {"watermark": spec}))
    assert with_logo.getpixel((8, 8)) == (255, 255, 0)


def test_a_plugin_share_transform_runs_without_a_watermark(library, tmp_path):
    from corpus import photo

    from pixlstash.auth import Authenticator
    from pixlstash.sharing import ShareTransform

    class Greyscale(ShareTransform):
        id = "grey"

        def apply(self, image, share):
            return image.convert("L").convert("RGB")

    class GreyPlugin:
        @hookimpl
        def register_share_transforms(self, register):
            register(Greyscale())

    photo(60, 40, seed=1).save(tmp_path / "p.png")
    (picture_id,) = [i.picture_id for i in library.import_paths([tmp_path / "p.png"]).imported]
    auth = Authenticator(library.root)
    plain = library.new_share_service(auth)
    share, _ = plain.create("pictures", picture_ids=[picture_id])
    assert not plain.transforms_apply(share)  # the watermark alone, unasked: files go out as stored
    library.plugin_manager.register(GreyPlugin())
    with_plugin = library.new_share_service(auth)
    assert with_plugin.transforms_apply(share)
    with Image.open(library.thumbnail_path(picture_id, "grid")) as source:
        source.load()
        import io

        rendered = Image.open(io.BytesIO(with_plugin.render(share, source))).convert("RGB")
    r, g, b = rendered.getpixel((5, 5))
    assert max(r, g, b) - min(r, g, b) <= 3  # grey, up to WebP rounding
    auth.close()
