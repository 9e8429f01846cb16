"""The ASGI entry point for `wbs serve` (each uvicorn worker imports it)."""

from __future__ import annotations

from wbs import logs
from wbs.app import create_app
from wbs.settings import Settings

logs.configure()
app = create_app(Settings.from_env())
