"""`reviewwatch serve`: the analysts' HTTP API and dashboard, with uvicorn.

Settings: `api.host`, `api.port` (overridden by --host/--port), `api.read_tokens` and
`api.write_tokens` (environment only; without any, every API request gets 401).
"""

from __future__ import annotations

import click

from reviewwatch.context import AppContext


@click.command("serve")
@click.option("--host", help="Address to listen on (default: api.host).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: api.port).")
@click.pass_obj
def command(app: AppContext, host: str | None, port: int | None) -> None:
    """Serve the API under /api/v1/ (docs at /api/docs) and the dashboard at /."""
    import uvicorn

    from reviewwatch.api import create_app

    settings = app.settings
    api = create_app(settings, app.store())
    if not api.state.auth.configured:
        click.echo(
            "warning: no API token configured, every request will be refused; set "
            "REVIEWWATCH_API__READ_TOKENS / REVIEWWATCH_API__WRITE_TOKENS (e.g. '[\"alice:secret\"]')",
            err=True,
        )
    host = host or settings.api.host
    port = port or settings.api.port
    click.echo(f"dashboard: http://{host}:{port}/  API docs: http://{host}:{port}/api/docs", err=True)
    uvicorn.run(api, host=host, port=port, log_level=settings.log_level.lower(),
                proxy_headers=False, server_header=False)
