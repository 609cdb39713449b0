"""Plugin settings through the host: declared as a msgspec Struct, stored in the library, checked,
handed to the hooks, changed through the API and the CLI, overridden by the environment."""

from __future__ import annotations

import json

import msgspec
import pytest
from conftest import run_cli

from pixlstash import Tagger, TagScore, hookimpl
from pixlstash.errors import BadInput, NotFound


class DemoSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    variants: list[str] = msgspec.field(default_factory=lambda: ["plain"])
    threshold: float = 0.5


class DemoTagger(Tagger):
    def __init__(self, variant: str, threshold: float) -> None:
        self.id, self.threshold = f"demo/{variant}", threshold

    def tag(self, images):
        return [[TagScore("demo", self.threshold)] for _ in images]


class DemoPlugin:
    @hookimpl
    def register_settings(self, register):
        register("demo", DemoSettings)

    @hookimpl
    def register_taggers(self, register, settings):
        for variant in settings["demo"].variants:
            register(DemoTagger(variant, settings["demo"].threshold))


@pytest.fixture
def demo_library(library):
    library.plugin_manager.register(DemoPlugin(), name="demo")
    yield library
    library.plugin_manager.unregister(name="demo")


def _taggers(library) -> dict[str, float]:
    return {e.id: e.threshold for e in library.engines.registry.engines("tagger") if e.id.startswith("demo/")}


def test_settings_are_declared_stored_checked_and_reach_the_hooks(demo_library):
    settings = demo_library.plugin_settings
    assert settings.get("demo") == DemoSettings() and _taggers(demo_library) == {"demo/plain": 0.5}
    settings.update("demo", {"variants": ["a", "b"], "threshold": 0.7})
    assert _taggers(demo_library) == {"demo/a": 0.7, "demo/b": 0.7}  # the registry follows the settings
    for bad in ({"threshold": "high"}, {"variants": "not-a-list"}, {"colour": "red"}):
        with pytest.raises(BadInput):
            settings.update("demo", bad)
    assert settings.get("demo") == DemoSettings(["a", "b"], 0.7)  # nothing stored changed
    with pytest.raises(NotFound, match="no plugin declares settings named 'nope'"):
        settings.get("nope")
    environ = {"PIXLSTASH_DEMO_THRESHOLD": "0.9", "PIXLSTASH_DEMO_VARIANTS": "x,y"}
    from pixlstash.plugin_settings import PluginSettings

    overridden = PluginSettings(demo_library.plugin_manager, settings.store, environ)
    assert overridden.get("demo") == DemoSettings(["x", "y"], 0.9)
    assert settings.stored("demo") == {"variants": ["a", "b"], "threshold": 0.7}  # overrides are never stored


def test_a_setting_can_come_from_a_file_as_docker_secrets_give_it(demo_library, tmp_path):
    from pixlstash.plugin_settings import PluginSettings

    secret = tmp_path / "threshold"
    secret.write_text("0.3\n")  # as `echo 0.3 > file` leaves it
    environ = {"PIXLSTASH_DEMO_THRESHOLD_FILE": str(secret)}
    from_file = PluginSettings(demo_library.plugin_manager, demo_library.plugin_settings.store, environ)
    assert from_file.get("demo").threshold == 0.3
    missing = PluginSettings(
        demo_library.plugin_manager, demo_library.plugin_settings.store, {"PIXLSTASH_DEMO_THRESHOLD_FILE": "/nope"}
    )
    with pytest.raises(BadInput, match="PIXLSTASH_DEMO_THRESHOLD_FILE: cannot read /nope"):
        missing.get("demo")


def test_the_api_reads_and_changes_settings_admin_only(demo_library):
    from live_server import LiveServer

    with LiveServer(demo_library) as server:
        admin, reader = server.client(server.token("admin")), server.client(server.token("read"))
        assert admin.get("/api/v1/plugins/demo/settings").json() == {"variants": ["plain"], "threshold": 0.5}
        changed = admin.put("/api/v1/plugins/demo/settings", json={"threshold": 0.25})
        assert changed.status_code == 200 and changed.json()["threshold"] == 0.25
        assert admin.put("/api/v1/plugins/demo/settings", json={"threshold": "x"}).status_code == 400
        assert admin.put("/api/v1/plugins/demo/settings", json={"nope": 1}).status_code == 400
        assert admin.get("/api/v1/plugins/unknown/settings").status_code == 404
        assert reader.put("/api/v1/plugins/demo/settings", json={"threshold": 0.1}).status_code == 403
        engines = admin.get("/api/v1/plugins").json()["engines"]
        assert {"id": "demo/plain", "task": "tagger", "version": "1", "label": ""} in engines


def test_the_cli_configures_the_clip_plugin_and_models_follow(tmp_path):
    library = str(tmp_path / "lib")
    shown = run_cli("plugins", "config", "clip", "--library", library).stdout
    assert 'clip.models = ["ViT-B-32@laion2b_s34b_b79k"]' in shown
    run_cli(
        "plugins", "config", "clip", "models=ViT-L-14@laion2b_s32b_b82k,ViT-B-16-SigLIP@webli", "--library", library
    )
    listed = json.loads(run_cli("models", "--json", "--library", library).stdout)
    assert {m["engine_id"] for m in listed if m["engine_id"].startswith("clip/")} >= {
        "clip/ViT-L-14@laion2b_s32b_b82k",
        "clip/ViT-B-16-SigLIP@webli",
    }
    bad = run_cli("plugins", "config", "clip", "colour=red", "--library", library, check=False)
    assert bad.returncode == 1 and "clip has no setting colour" in bad.stderr
