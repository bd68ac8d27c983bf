"""The `reviewwatch` command line: a group whose sub-commands are imported only when used.

Errors meant for users (ReviewwatchError) become one line on stderr and exit code 2.
"""

from __future__ import annotations

import importlib
from importlib.metadata import EntryPoint, entry_points
import os
import sys
from typing import Any

import click

from reviewwatch.config import config_path, load_settings
from reviewwatch.context import AppContext, configure_logging
from reviewwatch.errors import ReviewwatchError

# name -> module under reviewwatch.commands exposing `command`; imported lazily so that
# `reviewwatch status` does not pay for torch or Scrapy.
COMMANDS = {
    "init": "init",
    "db": "db",
    "status": "status",
    "demo": "demo",
    "crawl": "crawl",
    "score": "score",
    "perceived": "perceived",
    "train": "train",
    "gap": "gap",
    "claims": "claims",
    "run": "run",
    "digest": "digest",
    "query": "query",
    "serve": "serve",
    "ask": "ask",
    "worker": "worker",
    "alerts": "alerts",
}


# Commands that layers above the application add (`reviewwatch schedule`, from scheduler.py):
# the application cannot import them, so they register under this entry point group.
PLUGIN_GROUP = "reviewwatch.commands"


def _plugins() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=PLUGIN_GROUP) if ep.name not in COMMANDS}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        names = [*COMMANDS, *_plugins()]
        return sorted(name for name in names if self._load(name) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        module_name = COMMANDS.get(name)
        if module_name is None:
            plugin = _plugins().get(name)
            loaded = plugin.load() if plugin is not None else None
            return loaded if isinstance(loaded, click.Command) else None
        qualified = f"reviewwatch.commands.{module_name}"
        try:
            module = importlib.import_module(qualified)
        except ModuleNotFoundError as exc:
            if exc.name == qualified:
                return None  # not built yet
            raise
        command: click.Command = module.command
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ReviewwatchError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Configuration file (default: $REVIEWWATCH_CONFIG or ./reviewwatch.toml).",
)
@click.version_option(package_name="reviewwatch")
@click.pass_context
def cli(ctx: click.Context, config_file: str | None) -> None:
    """reviewwatch: what customers say about a business, against what it claims."""
    path = config_path(config_file, os.environ)
    if ctx.invoked_subcommand == "init":
        # `init` writes the file; it must work when the file is absent or broken.
        ctx.obj = path
        return
    try:
        settings = load_settings(path, required=config_file is not None)
    except ReviewwatchError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(2)
    configure_logging(settings.log_level)
    if settings.source_file is None:
        click.echo(
            f"note: no configuration file at {path}; no businesses are monitored. "
            "Create one with `reviewwatch init`.",
            err=True,
        )
    app = AppContext(settings=settings, config_file=path)
    ctx.obj = app
    ctx.call_on_close(app.close)


def main() -> None:
    try:
        cli(prog_name="reviewwatch")
    except ReviewwatchError as exc:  # raised outside a sub-command's invoke
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
