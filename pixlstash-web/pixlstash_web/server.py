"""Running the app under uvicorn (``pixlstash serve``)."""

from __future__ import annotations

from pathlib import Path

import uvicorn

from .app import create_app

__all__ = ["serve"]


def serve(
    library_path: Path,
    host: str = "127.0.0.1",
    port: int = 9537,
    plugin_manager=None,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
) -> None:
    """Serve the library at ``library_path`` until interrupted."""
    app = create_app()
    uvicorn.run(app, host=host, port=port, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile,
                log_level="info", server_header=False)
