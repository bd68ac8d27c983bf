"""The README's configuration table and the settings object stay in step."""

from __future__ import annotations

import re

from reviewwatch.settings_doc import env_name, setting_keys
from tests.conftest import REPO


def _readme_rows() -> dict[str, str]:
    rows = {}
    for line in (REPO / "README.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| `([a-z0-9_.]+)` \| ([^|]+?) \|", line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


def test_every_setting_is_documented_with_its_environment_variable() -> None:
    rows = _readme_rows()
    keys = list(setting_keys())
    missing = [key for key in keys if key not in rows]
    assert not missing, f"settings missing from README's configuration table: {missing}"
    for key in keys:
        if key != "businesses":
            assert rows[key] == f"`{env_name(key)}`", key


def test_every_documented_setting_exists() -> None:
    stale = set(_readme_rows()) - set(setting_keys())
    assert not stale, f"README documents settings that do not exist: {sorted(stale)}"
