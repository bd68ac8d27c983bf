"""The analysts' web application: the JSON API under /api/v1/ and the dashboard at /.

Settings: `api.read_tokens`, `api.write_tokens` (environment only), `api.cors_origins` (CORS is
off when empty), `api.max_page_size`; the pool (`database_pool_size`, `database_max_overflow`,
`database_pool_timeout_s`) bounds the requests at the store at once (database.py). There is no
raw-SQL endpoint. `/api/docs` is Swagger UI served from the `fastapi-offline` package: no CDN.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from jinja2 import Environment, FileSystemLoader

from reviewwatch.api import aggregates, asked, benchmark, feedback, followup, followup_link, mentions, overview
from reviewwatch.api.auth import TokenAuth, require_reader
from reviewwatch.api.database import StoreGate
from reviewwatch.api.deps import only_declared_query
from reviewwatch.api.cache import ReportCache
from reviewwatch.config import Settings, config_path, load_settings
from reviewwatch.errors import InputError, ReviewwatchError
from storage.corrections import MentionNotFound
from storage.db import Store

HERE = Path(__file__).parent
DOCS_ASSETS = "/api/docs-assets"
# The dashboard loads nothing from elsewhere and runs no inline script.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def _preload_gap_dependencies() -> None:
    """Import quapy (and the scikit-learn and torch it pulls in) in a background thread at start:
    the gap's share correction needs it, and importing it inside the first gap request made that
    request wait 4 s on a quiet machine, 17 s on a loaded one (bench/api_load.py, claims alone).
    A request that needs it sooner waits on Python's import lock, no longer than it would have."""

    def load() -> None:
        try:
            import quapy  # noqa: F401
        except Exception:  # noqa: BLE001 - the request that needs it reports the error
            logging.getLogger(__name__).debug("preloading quapy failed", exc_info=True)

    threading.Thread(target=load, name="preload-quapy", daemon=True).start()


def create_app(
    settings: Settings, store: Store, *, own_store: bool = False, cache_dir: Path | None = None
) -> FastAPI:
    """The app over `store`; with `own_store` it disposes of the store when it shuts down; with
    `cache_dir` the gap reports and claims charts are shared through it (see cache.py)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warmer = None
        if own_store:  # a served process (`reviewwatch serve`), not an app built in a test
            _preload_gap_dependencies()
        if cache_dir is not None:
            from reviewwatch.api.warm import Warmer

            warmer = Warmer(settings, store, app.state.reports, cache_dir)
            warmer.start()
        yield
        if warmer is not None:
            warmer.stop()
        if own_store:
            store.dispose()

    app = FastAPIOffline(
        title="reviewwatch",
        summary="What customers say about a business, against what it claims.",
        version="1",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        static_url=DOCS_ASSETS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.gate = StoreGate(store)
    app.state.reports = ReportCache(cache_dir)
    app.state.auth = TokenAuth(settings.api)
    # The token is checked before anything else: a request without one learns nothing, not
    # even whether a filter's business or topic exists.
    for router in (mentions.router, aggregates.router, asked.router, overview.router,
                   followup.router, benchmark.router):
        app.include_router(
            router, dependencies=[Depends(require_reader), Depends(only_declared_query)]
        )
    app.include_router(feedback.router)  # no API token: the signed link is the credential
    app.include_router(followup_link.router)  # the same: a digest's signed link
    _errors(app)
    _dashboard(app)
    if settings.api.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    return app


def factory() -> FastAPI:
    """The app of one `reviewwatch serve` worker process (`uvicorn --factory`).

    The settings reach each worker as the parent's did: the file named by REVIEWWATCH_CONFIG
    (set by `serve`) and the REVIEWWATCH_* environment. The parent has migrated the store.
    """
    settings = load_settings(config_path(None, os.environ))
    store = Store(settings.resolved_database_url, migrate=False, pool=settings.pool_options)
    # The workers of one server share what they compute through files under the data directory.
    return create_app(settings, store, own_store=True, cache_dir=settings.data_dir / "cache" / "api")


def _errors(app: FastAPI) -> None:
    @app.exception_handler(MentionNotFound)
    async def _not_found(_: Request, exc: MentionNotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(InputError)
    async def _invalid(_: Request, exc: InputError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(ReviewwatchError)
    async def _unavailable(_: Request, exc: ReviewwatchError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)


def _dashboard(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    # The page is a shell: it names no business and no topic. It asks for a token and loads
    # everything through the API with it, so nothing is learnt without one. It is rendered once,
    # with no data, only so that other features' panels are included (dashboard.html).
    templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
    shell = templates.get_template("dashboard.html").render()

    @app.get("/", include_in_schema=False)
    async def dashboard() -> HTMLResponse:
        response = HTMLResponse(shell)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response
