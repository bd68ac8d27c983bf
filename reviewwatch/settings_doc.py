"""The settings' dotted keys, as the README's configuration table must list them."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel

from reviewwatch.config import ENV_PREFIX, Settings


def setting_keys(model: type[BaseModel] = Settings, prefix: str = "") -> Iterator[str]:
    """Every leaf key, e.g. `smtp.host`; `businesses` is one entry (its own table documents it)."""
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from setting_keys(annotation, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}"


def env_name(key: str) -> str:
    return ENV_PREFIX + key.upper().replace(".", "__")
