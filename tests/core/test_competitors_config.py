"""`competitors = [...]` on a business: each another business of the same configuration."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from reviewwatch.cli import cli
from reviewwatch.config import load_settings
from reviewwatch.errors import ConfigError

TWO = '[[businesses]]\nid = "a"\nname = "A"\n{competitors}\n[[businesses]]\nid = "b"\nname = "B"\n'


def test_competitors_are_read(write_config) -> None:
    settings = load_settings(write_config(TWO.format(competitors='competitors = ["b"]')))
    assert settings.business("a").competitors == ["b"] and settings.business("b").competitors == []


@pytest.mark.parametrize(("competitors", "expected"), [
    ('competitors = ["bee"]', "businesses: business 'a': competitor 'bee' is not a business of "
     "this configuration (known: b)"),
    ('competitors = ["a"]', "businesses: business 'a': competitor 'a' is the business itself"),
    ('competitors = ["b", "b"]', "businesses: business 'a': competitor 'b' is named twice"),
])
def test_a_bad_competitor_is_named(write_config, competitors: str, expected: str) -> None:
    path = write_config(TWO.format(competitors=competitors))
    with pytest.raises(ConfigError) as excinfo:
        load_settings(path)
    assert str(excinfo.value) == f"{path}: {expected}"


def test_the_command_line_refuses_it_with_exit_2(write_config) -> None:
    path = write_config(TWO.format(competitors='competitors = ["bee"]'))
    result = CliRunner().invoke(cli, ["--config", str(path), "gap"])
    assert result.exit_code == 2
    assert "competitor 'bee' is not a business of this configuration" in result.stderr
    assert "Traceback" not in result.stderr
