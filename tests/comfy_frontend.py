"""ComfyUI's own frontend (the comfyui-frontend-package a real ComfyUI serves) in headless Chromium: open
it, load graphs through its ``app`` the way its template browser and file loader do, and watch what
goes wrong. Used by the frontend tests and by ``scripts/comfy-templates``, which writes the pack's
templates with this same frontend, so they are in exactly the format ComfyUI writes."""

from __future__ import annotations

from real_comfyui import RealComfyUI
from ui_support import launch

__all__ = ["ComfyPage", "open_comfy"]

READY = "window.app && window.app.graph && window.app.extensionManager && window.app.vueAppReady"


class ComfyPage:
    """One tab of ComfyUI's frontend, recording every failed request and page error from now on."""

    def __init__(self, page, comfy: RealComfyUI) -> None:
        self.page, self.comfy = page, comfy
        self.problems: list[str] = []
        # Not a first visit: no "Get started with a template" dialog over the canvas, no minimap.
        for setting, value in (("Comfy.TutorialCompleted", True), ("Comfy.Minimap.Visible", False)):
            comfy.post(f"/settings/{setting}", value).raise_for_status()
        page.goto(comfy.url + "/")
        page.wait_for_function(READY, timeout=90_000)
        page.wait_for_timeout(1500)  # its start-up requests (some fail on a stock ComfyUI: not ours)
        page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status} {r.url}"))

    def toasts(self) -> list[str]:
        """The messages the editor shows in its corner (a workflow that fails its schema check, ...)."""
        return [text.strip() for text in self.page.locator(".p-toast-message").all_text_contents()]

    def command(self, command_id: str) -> None:
        self.page.evaluate("(id) => window.app.extensionManager.command.execute(id)", command_id)

    def load_api_graph(self, graph: dict, name: str) -> tuple[dict, dict]:
        """An API-format graph loaded as the editor loads one (its ``loadApiJson``), laid out and fitted
        to the view; returns (the editor's graph in ComfyUI's workflow format, the API graph it queues)."""
        return self.page.evaluate(
            """async ([graph, name]) => {
                await window.app.loadApiJson(graph, name);
                await new Promise((r) => setTimeout(r, 300));
                await window.app.extensionManager.command.execute('Comfy.Canvas.FitView');
                await new Promise((r) => setTimeout(r, 300));
                return [window.app.graph.serialize(), (await window.app.graphToPrompt()).output];
            }""",
            [graph, name],
        )

    def load_template(self, name: str) -> dict:
        """A template of the pack, fetched from the URL the template browser fetches it from and opened
        as the browser opens one; returns (the graph as ComfyUI will queue it, node types it lacks)."""
        return self.page.evaluate(
            """async (name) => {
                const url = window.app.api.apiURL(`/workflow_templates/comfyui-pixlstash/${name}.json`);
                const workflow = await (await fetch(url)).json();
                await window.app.loadGraphData(workflow, true, true, name);
                await new Promise((r) => setTimeout(r, 300));
                const missing = window.app.graph.nodes
                    .filter((n) => !window.LiteGraph.registered_node_types[n.type]).map((n) => n.type);
                const queued = await window.app.graphToPrompt();
                return { prompt: queued.output, missing };
            }""",
            name,
        )


def open_comfy(playwright, comfy: RealComfyUI, width: int = 1440, height: int = 900):
    """(browser, ComfyPage) on a fresh tab of ``comfy``'s frontend."""
    browser = launch(playwright)
    page = browser.new_page(viewport={"width": width, "height": height})
    return browser, ComfyPage(page, comfy)
