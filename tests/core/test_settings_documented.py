"""docs/configuration.md, the configuration reference, and the settings models stay in step.

The reference is generated (`python -m reviewwatch.settings_doc > docs/configuration.md`); these
tests fail when it was not regenerated after a change to the models, when a setting is missing
from it or shown with the wrong environment variable, and when it documents a key that is gone.
"""

from __future__ import annotations

import re

from reviewwatch import config
from reviewwatch.settings_doc import (
    DESCRIPTIONS,
    NOTES,
    configuration_reference,
    documented_keys,
    env_name,
    secret_keys,
    setting_keys,
)
from tests.conftest import REPO

REFERENCE = REPO / "docs" / "configuration.md"
REGENERATE = "python -m reviewwatch.settings_doc > docs/configuration.md"


def _reference_rows() -> dict[str, str]:
    """key -> environment variable, for every row of the reference's settings tables."""
    rows = {}
    for line in REFERENCE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| `([a-z0-9_.]+)` \| `([A-Z0-9_]+)` \|", line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


def test_reference_is_what_the_generator_writes() -> None:
    assert REFERENCE.is_file(), f"docs/configuration.md is missing: run `{REGENERATE}`"
    assert REFERENCE.read_text(encoding="utf-8") == configuration_reference(), (
        f"docs/configuration.md differs from the settings models: run `{REGENERATE}`"
    )


def test_reference_says_how_to_regenerate_it() -> None:
    head = "\n".join(REFERENCE.read_text(encoding="utf-8").splitlines()[:10])
    assert REGENERATE in head


def test_every_setting_is_documented_with_its_environment_variable() -> None:
    rows = _reference_rows()
    keys = list(setting_keys())
    missing = [key for key in keys if key not in rows]
    assert not missing, f"settings missing from docs/configuration.md: {missing}"
    for key in keys:
        assert rows[key] == env_name(key), key


def test_every_documented_setting_exists() -> None:
    stale = set(_reference_rows()) - set(setting_keys())
    assert not stale, f"docs/configuration.md documents settings that do not exist: {sorted(stale)}"


def test_no_description_or_note_for_a_key_that_is_gone() -> None:
    keys = set(documented_keys())
    stale = (set(DESCRIPTIONS) | set(NOTES)) - keys
    assert not stale, f"reviewwatch/settings_doc.py describes keys that do not exist: {sorted(stale)}"


def test_every_key_has_a_meaning() -> None:
    text = configuration_reference()
    empty = [line for line in text.splitlines() if line.startswith("| `") and line.rstrip().endswith("|  |")]
    assert not empty, f"keys without a description (add one to DESCRIPTIONS): {empty}"


def test_the_secrets_named_are_those_refused_in_the_file() -> None:
    refused = {f"{section}.{key}" for section, key in getattr(config, "SECRET_KEYS", ())}
    if refused:
        assert set(secret_keys()) == refused
    text = REFERENCE.read_text(encoding="utf-8")
    for key in secret_keys():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{key}` |"))
        assert "environment only" in row, key
