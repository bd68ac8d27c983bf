"""The analysts' web application: the JSON API under /api/v1/ and the dashboard at /.

Settings: `api.read_tokens`, `api.write_tokens` (environment only), `api.cors_origins` (CORS is
off when empty), `api.max_page_size`. There is no raw-SQL endpoint.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from reviewwatch.api import aggregates, asked, feedback, mentions
from reviewwatch.api.auth import TokenAuth, require_reader
from reviewwatch.config import Settings
from reviewwatch.errors import InputError, ReviewwatchError
from storage.corrections import MentionNotFound
from storage.db import Store

HERE = Path(__file__).parent
# The dashboard loads nothing from elsewhere and runs no inline script.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def create_app(settings: Settings, store: Store) -> FastAPI:
    app = FastAPI(
        title="reviewwatch",
        summary="What customers say about a business, against what it claims.",
        version="1",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.settings = settings
    app.state.store = store
    app.state.auth = TokenAuth(settings.api)
    # The token is checked before anything else: a request without one learns nothing, not
    # even whether a filter's business or topic exists.
    for router in (mentions.router, aggregates.router, asked.router):
        app.include_router(router, dependencies=[Depends(require_reader)])
    app.include_router(feedback.router)  # no API token: the signed link is the credential
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
    templates = Jinja2Templates(directory=HERE / "templates")  # autoescape on for .html
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def dashboard(request: Request) -> HTMLResponse:
        settings: Settings = request.app.state.settings
        response = templates.TemplateResponse(
            request,
            "dashboard.html",
            {"businesses": settings.businesses, "topics": list(settings.sentiment.topics)},
        )
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response
