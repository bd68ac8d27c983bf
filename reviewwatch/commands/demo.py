"""`reviewwatch demo`: the daily cycle end to end on the embedded defaults and the demo data.

It serves the bundled demo web site on 127.0.0.1 (a real HTTP server in a thread), then runs
each demo business's cycle exactly as `reviewwatch run --dry-run` does (the crawl in a child
process, scoring with the embedded model, a gap snapshot, the digest written as .eml files),
and ends with the gap table of each business and the HTML report.
"""

from __future__ import annotations

from contextlib import ExitStack

import click

from reviewwatch.commands.digest import print_runs
from reviewwatch.commands.gap import gap_reports, print_tables, write_html
from reviewwatch.commands.run import print_results
from reviewwatch.context import AppContext
from reviewwatch.cycle import default_outbox, run_cycle
from reviewwatch.errors import InputError
from reviewwatch.terminal import console as make_console
from storage.db import safe_url

REPORT_NAME = "gap-report.html"


@click.command("demo")
@click.pass_context
def command(ctx: click.Context) -> None:
    """Serve the demo site, run every business's cycle (digests as .eml), show the gaps."""
    from crawler.demo_site import DEMO_PORT, demo_site

    app: AppContext = ctx.obj
    settings = app.settings
    if not settings.businesses:
        raise InputError("the demo needs a configuration with businesses: --config examples/demo.toml")
    console = make_console()
    store = app.store()
    console.print(f"store ready: {safe_url(store.url)}")
    for business in settings.businesses:
        sources = ", ".join(s.type for s in business.sources)
        console.print(f"  {business.id} ({business.name}, {business.timezone}): {sources}")

    outbox = default_outbox(settings)
    with ExitStack() as stack:
        try:
            base_url = stack.enter_context(demo_site(DEMO_PORT))
        except OSError as exc:
            raise InputError(
                f"cannot serve the demo site on 127.0.0.1:{DEMO_PORT}: {exc} "
                "(is another demo running?)"
            ) from None
        console.print(f"demo site served on {base_url}")
        results = []
        for business in settings.businesses:
            console.print(f"[bold]{business.id}[/]: crawl, score, snapshot, digest ...")
            results.append(
                run_cycle(settings, business.id, dry_run=True, outbox=outbox, store=store)
            )

    print_results(results)
    from reviewwatch.commands.status import command as status

    ctx.invoke(status)
    print_runs([r.digest for r in results if r.digest is not None])
    console.print(f"digests (dry run): .eml files in {outbox}")

    reports = gap_reports(store, settings, [b.id for b in settings.businesses])
    print_tables(reports)
    report = write_html(reports, settings.data_dir / REPORT_NAME)
    console.print(f"gap report: {report}")
    if not all(r.ok for r in results):
        raise SystemExit(1)
