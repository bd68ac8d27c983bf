"""`reviewwatch demo`: the daily cycle end to end on the embedded defaults and the demo data.

It serves the bundled demo web site on 127.0.0.1 (a real HTTP server in a thread), then runs
each demo business's cycle exactly as `reviewwatch run --dry-run` does (the crawl in a child
process, scoring with the embedded model and the spike check, a gap snapshot, the digest
written as .eml files),
and ends with the gap table of each business and the HTML report.
"""

from __future__ import annotations

import json
import re
from contextlib import ExitStack
from pathlib import Path

import click

from reviewwatch.commands.alerts import print_alerts
from reviewwatch.commands.digest import print_runs
from reviewwatch.commands.gap import gap_reports, print_tables, write_html
from reviewwatch.commands.run import print_results
from reviewwatch.config import Settings, load_settings
from reviewwatch.context import AppContext
from reviewwatch.cycle import default_outbox, run_cycle
from reviewwatch.errors import InputError
from reviewwatch.terminal import console as make_console
from storage.db import Store, safe_url

REPORT_NAME = "gap-report.html"
CUSTOMERS = Path(__file__).resolve().parents[2] / "examples" / "demo_customers.csv"
DEMO_HOST_PORT = "127.0.0.1:8765"  # what examples/demo.toml points at (crawler.demo_site.DEMO_PORT)
_TOP_LEVEL_DATA_DIR = re.compile(r"^data_dir\s*=.*$", re.MULTILINE)


def settings_for_port(settings: Settings, port: int) -> Settings:
    """The configuration with its 127.0.0.1:8765 urls moved to `port`, written beside the demo's
    data (the crawl runs in a child process, which reads a file) with `data_dir` made absolute."""
    source = settings.source_file
    assert source is not None
    text = source.read_text(encoding="utf-8").replace(DEMO_HOST_PORT, f"127.0.0.1:{port}")
    data_dir = f"data_dir = {json.dumps(settings.data_dir.as_posix())}"
    head, table, rest = text.partition("\n[")  # top-level keys come before the first table
    if _TOP_LEVEL_DATA_DIR.search(head):
        head = _TOP_LEVEL_DATA_DIR.sub(lambda _: data_dir, head, count=1)
    else:
        head = f"{data_dir}\n{head}"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    moved = settings.data_dir / f"demo-port-{port}.toml"
    moved.write_text(head + table + rest, encoding="utf-8")
    return load_settings(Path(moved), required=True)


@click.command("demo")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True,
              help="Serve the demo site on this port of 127.0.0.1 (the configuration's "
              "127.0.0.1:8765 urls follow it).")
@click.pass_context
def command(ctx: click.Context, port: int) -> None:
    """Serve the demo site, run every business's cycle (digests as .eml), show the gaps."""
    from crawler.demo_site import DEMO_PORT, demo_site

    app: AppContext = ctx.obj
    if not app.settings.businesses:
        raise InputError("the demo needs a configuration with businesses: --config examples/demo.toml")
    if port != DEMO_PORT:
        moved = settings_for_port(app.settings, port)
        assert moved.source_file is not None
        app = ctx.obj = AppContext(settings=moved, config_file=moved.source_file)
        ctx.call_on_close(app.close)
    settings = app.settings
    console = make_console()
    store = app.store()
    console.print(f"store ready: {safe_url(store.url)}")
    for business in settings.businesses:
        sources = ", ".join(s.type for s in business.sources)
        console.print(f"  {business.id} ({business.name}, {business.timezone}): {sources}")

    outbox = default_outbox(settings)
    with ExitStack() as stack:
        try:
            base_url = stack.enter_context(demo_site(port))
        except OSError as exc:
            raise InputError(
                f"cannot serve the demo site on 127.0.0.1:{port}: {exc} "
                "(is another demo running? `reviewwatch demo --port N` serves it elsewhere)"
            ) from None
        console.print(f"demo site served on {base_url}")
        _feedback(store, settings, outbox)
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
    print_alerts([r.alerts for r in results if r.alerts is not None])  # checked after each crawl

    reports = gap_reports(store, settings, [b.id for b in settings.businesses])
    print_tables(reports)
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # the demo's own folder
    report = write_html(reports, settings.data_dir / REPORT_NAME)
    console.print(f"gap report: {report}")
    if not all(r.ok for r in results):
        raise SystemExit(1)


def _feedback(store: Store, settings: Settings, outbox: Path) -> None:
    """Every business asks the bundled customers (dry run); two of the first business's answer on
    the feedback page. The gap tables then show each claim in public beside when asked."""
    from reviewwatch.commands.demo_feedback import ask_and_answer, free_port, with_demo_key

    console = make_console()
    if not CUSTOMERS.is_file():
        console.print(f"feedback requests skipped: no {CUSTOMERS}")
        return
    slugs = [b.id for b in settings.businesses]
    done = ask_and_answer(store, with_demo_key(settings, free_port()), slugs, CUSTOMERS, outbox)
    for run in done.runs:
        console.print(
            f"{run.business}: {run.count('written')} feedback requests written to {outbox} "
            f"({run.cooldown} asked recently, skipped)", markup=False, highlight=False)
    console.print(
        f"{slugs[0]}: {len(done.answered)} answered on the feedback page: "
        + (", ".join(f"score {score}" for _name, score in done.answered) or "none"),
        markup=False, highlight=False)
