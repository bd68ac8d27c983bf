"""The analysts' HTTP API and dashboard (FastAPI): `create_app(settings, store)`; see app.py."""

from __future__ import annotations

from reviewwatch.api.app import create_app

__all__ = ["create_app"]
