"""`reviewwatch init`: write a commented example configuration."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import click

from reviewwatch.errors import InputError


@click.command("init")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_obj
def command(path: Path, force: bool) -> None:
    """Write a commented example configuration file."""
    if path.exists() and not force:
        raise InputError(f"{path} already exists (use --force to overwrite)")
    example = files("reviewwatch").joinpath("example.toml").read_text(encoding="utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(example, encoding="utf-8")
    click.echo(f"wrote {path}; edit it, then run `reviewwatch status`")
