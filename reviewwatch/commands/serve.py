"""`reviewwatch serve`: the analysts' HTTP API and dashboard, with uvicorn.

Settings: `api.host`, `api.port` (overridden by --host/--port), `api.read_tokens` and
`api.write_tokens` (environment only; without any, every API request gets 401), and the pool
(`database_pool_size`, `database_max_overflow`, `database_pool_timeout_s`), per worker.
`--workers N` starts N processes, each building the app with `reviewwatch.api.app:factory`
from the same configuration file (passed to them as REVIEWWATCH_CONFIG) and environment.
"""

from __future__ import annotations

import os

import click

from reviewwatch.config import ENV_PREFIX
from reviewwatch.context import AppContext

APP_FACTORY = "reviewwatch.api.app:factory"


@click.command("serve")
@click.option("--host", help="Address to listen on (default: api.host).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: api.port).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes; each has its own pool of database_pool_size connections.")
@click.pass_obj
def command(app: AppContext, host: str | None, port: int | None, workers: int) -> None:
    """Serve the API under /api/v1/ (docs at /api/docs) and the dashboard at /."""
    import uvicorn

    from reviewwatch.api.auth import TokenAuth

    settings = app.settings
    app.store()  # migrated and in step with the configuration once, before any worker starts
    app.close()  # each worker opens its own pool
    if not TokenAuth(settings.api).configured:
        click.echo(
            "warning: no API token configured, every request will be refused; set "
            "REVIEWWATCH_API__READ_TOKENS / REVIEWWATCH_API__WRITE_TOKENS (e.g. '[\"alice:secret\"]')",
            err=True,
        )
    if settings.source_file is not None:
        # The workers read the same file: uvicorn starts them fresh, with this environment.
        os.environ[f"{ENV_PREFIX}CONFIG"] = str(settings.source_file.resolve())
    host = host or settings.api.host
    port = port or settings.api.port
    click.echo(f"dashboard: http://{host}:{port}/  API docs: http://{host}:{port}/api/docs"
               f"  ({workers} worker{'s' if workers > 1 else ''})", err=True)
    uvicorn.run(APP_FACTORY, factory=True, workers=workers, host=host, port=port,
                log_level=settings.log_level.lower(), proxy_headers=False, server_header=False)
