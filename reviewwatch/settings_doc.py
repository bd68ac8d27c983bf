"""The settings' dotted keys, and the configuration reference generated from the settings models.

`docs/configuration.md` is this module's output; regenerate it after changing a setting:

    python -m reviewwatch.settings_doc > docs/configuration.md

`tests/core/test_settings_documented.py` fails when the file and the models differ.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any, Literal, TypeGuard

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

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


# What each setting means, for the fields whose model gives no `description` (a field's own
# description wins). Keys are dotted; the tables inside `businesses` and inside a dict of models
# (`sentiment.topics`) use the key of the list or dict, then the field: `businesses.sources.type`.
DESCRIPTIONS: dict[str, str] = {
    "data_dir": "where the SQLite store and converted model live (relative to the config file)",
    "database_url": "empty: SQLite under `data_dir`; `postgresql://user@host/db` for PostgreSQL; "
    "a URL with a password is refused in the file: set it in the environment variable only",
    "languages": "languages the detector chooses among",
    "log_level": "DEBUG, INFO, WARNING or ERROR",
    "crawl.contact": "contact address sent in the User-Agent",
    "crawl.concurrent_per_domain": "concurrent requests per domain (1 or 2)",
    "crawl.download_delay": "seconds between requests to one domain",
    "crawl.autothrottle": "adapt the delay to the server's latency",
    "crawl.first_crawl_pages": "pages read per source on its first crawl",
    "crawl.max_pages": "most pages read per source and run",
    "crawl.timeout_s": "download timeout (seconds)",
    "crawl.max_response_bytes": "larger responses are dropped",
    "crawl.max_redirects": "redirects followed per request",
    "crawl.retries": "retries on 429, 5xx and timeouts (honouring `Retry-After`)",
    "crawl.text_max_chars": "longer texts are cut and flagged as truncated",
    "crawl.retry_backoff_s": "first retry wait; doubled at each retry (a `Retry-After` header wins)",
    "crawl.retry_max_wait_s": "longest wait before a retry or after a rate limit is reached",
    "crawl.own_site_max_pages": "pages of a business's own site read for claims",
    "crawl.store_batch_size": "mentions written per transaction",
    "crawl.reddit_client_id": "Reddit app id for the `reddit` source (application-only OAuth)",
    "crawl.reddit_client_secret": "Reddit app secret",
    "sentiment.model": "local path or hub id of a transformers model; empty: the embedded model",
    "sentiment.batch_size": "texts per scoring batch",
    "sentiment.weights_dir": (
        "folder with trained heads and LoRA adapter (`heads.json`); empty: the shipped `sentiment/weights`"
    ),
    "sentiment.max_length": (
        "tokens per window; longer texts are split into windows and aggregated, never cut"
    ),
    "sentiment.threads": "CPU threads for inference; 0 lets torch decide",
    "sentiment.int8": (
        "run the encoder's Linear layers in dynamic int8 but the few FFN down-projections that the "
        "weights' `heads.json` keeps in fp32 (chosen on dev by `sentiment.int8_select` when training)"
    ),
    "sentiment.device": (
        "where the encoder runs: `auto` (the first GPU when torch sees one and int8 is off, else the "
        "CPU), `cpu`, `cuda`, `cuda:N`, `mps`"
    ),
    "sentiment.precision": "`bf16` (CPUs with AMX or AVX-512 BF16, GPUs) or `fp16` (GPUs)",
    "sentiment.allow_download": (
        "let transformers fetch `sentiment.model` from a model hub; off: everything offline"
    ),
    "sentiment.similarity_threshold": (
        "cosine offset for topics scored by similarity; 0: the value calibrated in `heads.json`"
    ),
    "sentiment.topics": (
        "the topic taxonomy: `[sentiment.topics.KEY]` with `descriptions` and `examples` "
        "(multilingual), optional `threshold`"
    ),
    "sentiment.topics.descriptions": "what the topic is about, in as many languages as useful",
    "sentiment.topics.examples": "example sentences that mention the topic (blank ones are dropped)",
    "sentiment.topics.threshold": (
        "this topic's threshold (0..1); none: the trained head's threshold, or the similarity curve"
    ),
    "gap.min_mentions": "fewer mentions than this: \"not enough evidence\"",
    "gap.period_days": "default period compared with the claims",
    "gap.prior_strength": "pseudo-reviews pulling small samples' mean stars to the prior",
    "gap.prior_stars": "the prior's mean stars (1..5) that small samples are pulled towards",
    "gap.recency_half_life_days": "optional recency weighting of mentions",
    "gap.risk_threshold": "evidence against a claim beyond this puts it at risk",
    "gap.own_site_levels": (
        "positive share claimed by a service claim on the business's own site, by wording: "
        "superlative (\"the friendliest staff in town\"), strong (\"exceptional service\"), "
        "positive (\"friendly staff\"); a stated percentage is taken as it is"
    ),
    "smtp.host": "SMTP server",
    "smtp.port": "SMTP port",
    "smtp.security": "`starttls`, `tls` (implicit) or `none`",
    "smtp.user": "SMTP login",
    "smtp.password": "SMTP password",
    "smtp.sender": "From address of digests",
    "smtp.timeout_s": "SMTP timeout (seconds)",
    "smtp.ca_file": "a CA bundle to trust besides the system's (for a relay with a private certificate)",
    "api.host": "address `reviewwatch serve` listens on",
    "api.port": "port `reviewwatch serve` listens on",
    "api.read_tokens": "bearer tokens that may read (JSON list of `name:secret`)",
    "api.write_tokens": (
        "bearer tokens that may also correct mentions (`name:secret`; the name is recorded with "
        "each correction)"
    ),
    "api.cors_origins": "origins allowed by CORS (off when empty)",
    "api.max_page_size": "largest page of mentions the API returns",
    "schedule.misfire_grace_s": "a cycle missed by less than this still runs",
    "schedule.crawl_timeout_s": "a cycle's crawl process is stopped (and reported as failed) after this",
    "schedule.retry_every_s": "how often the daemon retries pending digests whose back-off has passed",
    "businesses": "the monitored businesses, below; normally in the file",
    "businesses.id": "a slug: lower-case letters, digits, `-` or `_`; names the business in commands",
    "businesses.name": "the business's name: what a post must mention to be about it",
    "businesses.aliases": "other names a post may mention instead of `name`",
    "businesses.website": "the business's own site",
    "businesses.timezone": "IANA time zone (e.g. `Europe/Paris`); the cycle runs at `digest.send_at` in it",
    "businesses.owners": (
        "digest recipients: an address, or a table `{ email, language }` (below)"
    ),
    "businesses.owners.email": "the owner's address",
    "businesses.owners.language": "the language of the owner's digests",
    "businesses.sources": "`[[businesses.sources]]`, below",
    "businesses.claims": "`[[businesses.claims]]`, below",
    "businesses.digest": "`[businesses.digest]`, below",
    "businesses.sources.type": "the spider that reads it (see [crawling](crawling.md))",
    "businesses.sources.url": "the target's address (http or https); exactly one of `url`, `handle`, `query`",
    "businesses.sources.handle": "the target as a handle; exactly one of `url`, `handle`, `query`",
    "businesses.sources.query": "the target as a search; exactly one of `url`, `handle`, `query`",
    "businesses.sources.options": "the source type's options (see [crawling](crawling.md))",
    "businesses.claims.topic": "the claim's topic; none: the whole business",
    "businesses.claims.positive_share": "the positive share claimed (0..1)",
    "businesses.claims.average_rating": "the average rating claimed, on `rating_scale`",
    "businesses.claims.rating_scale": "the scale of `average_rating`",
    "businesses.claims.response_within_hours": "a promised response time: negative mentions "
    "answered within this many hours",
    "businesses.claims.response_share": "the share of negative mentions promised an answer within "
    "`response_within_hours` (1.0: every one)",
    "businesses.claims.stated_at": "when the business stated it",
    "businesses.claims.predicted_for": (
        "a coming period (`2026-12` or `2026-W50`): the claim is a prediction for that period"
    ),
    "businesses.digest.frequency": "`daily` or `weekly`; crawling, scoring and the gap snapshot run daily either way",
    "businesses.digest.send_at": "local time (in `timezone`) of the daily cycle and its digest",
    "businesses.digest.weekday": "the day a weekly digest is sent",
    "businesses.digest.negative_threshold": (
        "a mention goes into the digest when its score says negative with `p_negative` at least this"
    ),
    "businesses.digest.max_stars": "...or when the customer's rating is at or below this (on a 1-5 scale)",
    "businesses.digest.all_quiet_email": "send a digest even when there is no negative mention",
    "businesses.digest.excerpt_chars": "a mention's text is cut to this many characters",
}

# A sentence added after the description, whatever its origin.
NOTES: dict[str, str] = {
    "sentiment.int8": (
        "speed and quality: [operations](operations.md#choosing-int8-or-bf16) and the "
        "[model card](../sentiment/MODEL.md#int8-sentimentint8--true); not with `precision`"
    ),
    "sentiment.device": "an unusable device is refused at load with the reason",
    "sentiment.max_length": "never cut",
    "sentiment.precision": (
        "changing it re-scores; not with `int8`; speed and quality: "
        "[operations](operations.md#choosing-int8-or-bf16)"
    ),
}

# One line under a section's heading, saying where its subject is documented.
SECTION_INTROS: dict[str, str] = {
    "crawl": "How the sources are read: [crawling](crawling.md).",
    "sentiment": (
        "The model that scores mentions: the [model card](../sentiment/MODEL.md); choosing int8 "
        "or bf16: [operations](operations.md#choosing-int8-or-bf16)."
    ),
    "gap": "The method these settings tune: [claimed versus perceived](gap.md).",
    "smtp": "How digests are sent: [daily cycle and digests](cycle.md).",
    "api": "What `reviewwatch serve` serves: [analysts](analysts.md#http-api-and-dashboard).",
    "schedule": "The daemon: [daily cycle and digests](cycle.md) and [operations](operations.md).",
}

HEADER = """\
# Configuration reference

<!-- Generated by `python -m reviewwatch.settings_doc > docs/configuration.md` from the settings
models; do not edit by hand. tests/core/test_settings_documented.py fails when they differ. -->

*This file is generated from the settings models (`reviewwatch.config.Settings`) by
`python -m reviewwatch.settings_doc > docs/configuration.md`: change the models (or the
descriptions in `reviewwatch/settings_doc.py`) and regenerate it, never edit it by hand.*

One TOML file plus environment variables. The file is `reviewwatch.toml` unless `--config PATH`
or `REVIEWWATCH_CONFIG` names another; `reviewwatch init` writes a commented example, and
[`examples/demo.toml`](../examples/demo.toml) is the demo's. Every key below can be set in the
environment as shown (nested keys with `__`); the environment wins over the file. Lists and
tables are given in the environment as JSON, e.g. `REVIEWWATCH_LANGUAGES='["en", "fr"]'`.
Secrets ({secrets}) are read from the environment only: the file may not contain them.

A bad configuration gives one message naming the file (or the environment variable), the key and
the problem, and exit code 2.
"""

BUSINESSES_PROSE = """\
## Businesses

Each `[[businesses]]` table has `id` (a slug), `name`, `aliases` (what a post must mention),
`website`, `timezone` (IANA), `kind` (`hotel`: its topics read by heads trained on hotel
reviews), `owners` (digest recipients: an address, or
`{ email = "...", language = "fr" }`), `sources`, `claims` and `digest`:

- `[[businesses.sources]]`: `type` (`schema_org`, `trustpilot`, `mastodon`, `feed`, `app_store`,
  `own_site`, `reddit`), exactly one of `url`, `handle` or `query`, and `options`.
- `[[businesses.claims]]`: the service level the business declares: `positive_share` (0..1)
  and/or `average_rating` with `rating_scale`, optionally for one `topic`, with `stated_at`;
  `predicted_for = "2026-12"` makes it a prediction for that period.
- `[businesses.digest]`: `frequency` (`daily` or `weekly`), `send_at` (local time), `weekday`,
  `negative_threshold`, `max_stars`, `all_quiet_email`, `excerpt_chars`.

`reviewwatch init` writes a commented example; `examples/demo.toml` is the demo's. The sources'
options are listed in [crawling](crawling.md), how claims are compared in [the gap method](gap.md),
and what a digest holds in [daily cycle and digests](cycle.md).

These keys are read from the file (the whole list can also come from `REVIEWWATCH_BUSINESSES` as
JSON); they have no environment variable of their own.
"""


# ---------------------------------------------------------------------------------------------
# Rendering


def _is_model(annotation: Any) -> TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _split_optional(annotation: Any) -> tuple[Any, bool]:
    """(the annotation without None, whether None is allowed)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) < len(typing.get_args(annotation)):
            return (args[0] if len(args) == 1 else typing.Union[tuple(args)]), True
    return annotation, False


def _is_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    return any(_is_secret(arg) for arg in typing.get_args(annotation))


def _item_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside `list[Model]` or `dict[str, Model]`, if that is what the annotation is."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is list and args and _is_model(args[0]):
        return args[0]
    if origin is dict and len(args) == 2 and _is_model(args[1]):
        return args[1]
    return None


_SCALARS = {
    str: ("string", "strings"),
    int: ("integer", "integers"),
    float: ("number", "numbers"),
    bool: ("boolean", "booleans"),
    SecretStr: ("secret string", "secret strings"),
    dt.date: ("date (`YYYY-MM-DD`)", "dates"),
    dt.time: ("time (`HH:MM`)", "times"),
}


def _type_name(annotation: Any, plural: bool = False) -> str:
    annotation, optional = _split_optional(annotation)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Literal:
        text = "one of " + ", ".join(f"`{a}`" for a in args)
    elif origin is list:
        text = "list of " + (_type_name(args[0], plural=True) if args else "values")
    elif origin is dict:
        value = args[1] if len(args) == 2 else Any
        if _is_model(value):
            text = "table of tables (below)"
        elif value is Any:
            text = "table"
        else:
            text = "table of " + _type_name(value, plural=True)
    elif _is_model(annotation):
        text = "table (below)" if not plural else "tables (below)"
    elif isinstance(annotation, type) and issubclass(annotation, PurePath):
        text = "paths" if plural else "path"
    elif isinstance(annotation, type) and annotation in _SCALARS:
        text = _SCALARS[annotation][1 if plural else 0]
    elif getattr(annotation, "__name__", "") == "EmailStr" or "EmailStr" in repr(annotation):
        text = "email addresses" if plural else "email address"
    else:
        text = getattr(annotation, "__name__", None) or repr(annotation)
    return f"{text}, optional" if optional else text


def _number(value: Any) -> str:
    return str(value)


def _constraints(field: FieldInfo) -> str:
    bounds: dict[str, Any] = {}
    for item in field.metadata:
        for attr in ("ge", "gt", "le", "lt", "min_length", "max_length", "pattern"):
            value = getattr(item, attr, None)
            if value is not None:
                bounds[attr] = value
    parts = []
    low = ("ge", bounds["ge"]) if "ge" in bounds else ("gt", bounds["gt"]) if "gt" in bounds else None
    high = ("le", bounds["le"]) if "le" in bounds else ("lt", bounds["lt"]) if "lt" in bounds else None
    if low and high and low[0] == "ge" and high[0] == "le":
        parts.append(f"{_number(low[1])}..{_number(high[1])}")
    else:
        if low:
            parts.append(("≥ " if low[0] == "ge" else "> ") + _number(low[1]))
        if high:
            parts.append(("≤ " if high[0] == "le" else "< ") + _number(high[1]))
    if "min_length" in bounds or "max_length" in bounds:
        parts.append(f"length {bounds.get('min_length', 0)}..{bounds.get('max_length', '')}".rstrip("."))
    if "pattern" in bounds:
        parts.append(f"matching `{bounds['pattern']}`")
    return ", ".join(parts)


def _type_cell(field: FieldInfo) -> str:
    text = _type_name(field.annotation)
    constraints = _constraints(field)
    return f"{text}, {constraints}" if constraints else text


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return value


def _default_cell(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if value is None or value is PydanticUndefined:
        return "none"
    if isinstance(value, BaseModel):
        return "as below"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, str):
        return f"`{value}`" if value else "empty"
    if isinstance(value, PurePath):
        return f"`{value.as_posix()}`"
    if isinstance(value, dt.time):
        return f"`{value.strftime('%H:%M')}`"
    if isinstance(value, (list, dict)) and not value:
        return "empty"
    if isinstance(value, dict) and all(isinstance(v, BaseModel) for v in value.values()):
        return f"{len(value)} entries: " + ", ".join(f"`{k}`" for k in value)
    if isinstance(value, (list, dict)):
        return "`" + json.dumps(_jsonable(value), ensure_ascii=False, separators=(",", ":")) + "`"
    return f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _meaning(key: str, field: FieldInfo) -> str:
    text = (field.description or DESCRIPTIONS.get(key, "")).strip()
    if text.endswith("."):
        text = text[:-1]
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]  # the models' sentences, in the tables' style
    note = NOTES.get(key)
    if note:
        text = f"{text}; {note}" if text else note
    if _is_secret(field.annotation):
        text = f"{text}; **environment only**" if text else "**environment only**"
    return _cell(text)


def _all_fields(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, FieldInfo]]:
    """Every field of the models, nested ones included, with its dotted key (lists and dicts of
    models by the key of the list or dict, e.g. `businesses.sources.type`)."""
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        yield key, field
        annotation, _ = _split_optional(field.annotation)
        inner = annotation if _is_model(annotation) else _item_model(annotation)
        if inner is not None:
            yield from _all_fields(inner, f"{key}.")


def documented_keys() -> list[str]:
    """Every key the reference describes: the settings, and the fields of the tables inside them."""
    return [key for key, _ in _all_fields(Settings)]


def secret_keys() -> list[str]:
    """The settings that hold secrets (typed `SecretStr`): environment only."""
    return [key for key, field in _all_fields(Settings) if _is_secret(field.annotation)]


def _settings_table(rows: list[tuple[str, FieldInfo]]) -> list[str]:
    lines = [
        "| key | environment variable | type | default | meaning |",
        "|---|---|---|---|---|",
    ]
    for key, field in rows:
        lines.append(
            f"| `{key}` | `{env_name(key)}` | {_cell(_type_cell(field))} | "
            f"{_cell(_default_cell(field))} | {_meaning(key, field)} |"
        )
    return lines


def _fields_table(model: type[BaseModel], prefix: str) -> list[str]:
    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        lines.append(
            f"| `{name}` | {_cell(_type_cell(field))} | {_cell(_default_cell(field))} | "
            f"{_meaning(key, field)} |"
        )
    return lines


def _nested_tables(model: type[BaseModel], key: str, heading: str, level: int) -> list[str]:
    """The table of `model` (reached at `key`), then those of the models inside it."""
    lines = ["", f"{'#' * level} `{heading}`", ""]
    lines += _fields_table(model, f"{key}.")
    for name, field in model.model_fields.items():
        annotation, _ = _split_optional(field.annotation)
        sub_key = f"{key}.{name}"
        if _is_model(annotation):
            lines += _nested_tables(annotation, sub_key, f"[{heading.strip('[]')}.{name}]", level)
        elif (item := _item_model(annotation)) is not None:
            if typing.get_origin(annotation) is list:
                sub_heading = f"[[{heading.strip('[]')}.{name}]]"
            else:
                sub_heading = f"[{heading.strip('[]')}.{name}.KEY]"
            lines += _nested_tables(item, sub_key, sub_heading, level)
    return lines


def configuration_reference() -> str:
    """docs/configuration.md: every setting with its environment variable, type, default and meaning."""
    secrets = ", ".join(f"`{key}`" for key in secret_keys())
    out = [HEADER.replace("{secrets}", secrets).rstrip("\n")]
    general = []
    sections: list[tuple[str, type[BaseModel]]] = []
    lists: list[tuple[str, FieldInfo]] = []
    for name, field in Settings.model_fields.items():
        annotation, _ = _split_optional(field.annotation)
        if _is_model(annotation):
            sections.append((name, annotation))
        elif typing.get_origin(annotation) is list and _item_model(annotation) is not None:
            lists.append((name, field))
        else:
            general.append((name, field))

    out += ["", "## General", ""]
    out += _settings_table(general)
    for name, model in sections:
        out += ["", f"## `[{name}]`", ""]
        if name in SECTION_INTROS:
            out += [SECTION_INTROS[name], ""]
        out += _settings_table(list(_all_leaf_fields(model, f"{name}.")))
        for field_name, field in model.model_fields.items():
            annotation, _ = _split_optional(field.annotation)
            item = _item_model(annotation)
            if item is not None:
                key = f"{name}.{field_name}"
                suffix = ".KEY]" if typing.get_origin(annotation) is dict else "]]"
                opening = "[" if suffix == ".KEY]" else "[["
                out += _nested_tables(item, key, f"{opening}{key}{suffix}", 3)
    for name, field in lists:
        item = _item_model(field.annotation)
        assert item is not None
        out += [""]
        if name == "businesses":
            out += [BUSINESSES_PROSE.rstrip("\n"), ""]
        else:
            out += [f"## `{name}`", ""]
        out += _settings_table([(name, field)])
        out += _nested_tables(item, name, f"[[{name}]]", 3)
    return "\n".join(out) + "\n"


def _all_leaf_fields(model: type[BaseModel], prefix: str) -> Iterator[tuple[str, FieldInfo]]:
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if _is_model(annotation):
            yield from _all_leaf_fields(annotation, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", field


if __name__ == "__main__":
    sys.stdout.write(configuration_reference())
