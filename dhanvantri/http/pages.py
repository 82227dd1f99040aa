"""The browser pages (``web_client/``) served beside the API."""

from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import web

log = logging.getLogger(__name__)


def web_client_dir(configured: Path | None = None) -> Path:
    """``configured``, else ``web_client/`` beside the ``dhanvantri`` package (the repository)."""
    return configured or Path(__file__).resolve().parents[2] / "web_client"


def add_page(app: web.Application, route: str, file: Path) -> bool:
    """Serve ``file`` at ``route`` uncached (pages change with the server); False if missing."""
    if not file.is_file():
        log.warning("no page at %s (set DHANVANTRI_WEB_CLIENT_DIR)", file)
        return False

    async def page(request: web.Request) -> web.FileResponse:
        return web.FileResponse(file, headers={"Cache-Control": "no-cache"})

    app.router.add_get(route, page)
    return True
