"""schema.org `Review` and `AggregateRating` from JSON-LD, microdata and RDFa, as plain dicts.

JSON-LD is parsed here (so that a malformed block is counted, not silently lost); microdata
and RDFa go through extruct, and RDFa's expanded graph is folded back into nested objects.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import extruct
from parsel import Selector

log = logging.getLogger(__name__)
_SCHEMA_PREFIX = re.compile(r"^https?://schema\.org/")
_CDATA = re.compile(r"^\s*(<!\[CDATA\[|<!--)|(\]\]>|-->)\s*$")
_MAX_DEPTH = 12
# Types that describe a review's parts rather than the thing reviewed.
_PART_TYPES = {"Review", "Rating", "AggregateRating", "Person", "Organization", "ImageObject",
               "WebPage", "BreadcrumbList", "ListItem", "PostalAddress", "GeoCoordinates"}


@dataclass(slots=True)
class Found:
    """A Review or AggregateRating node and the item it is about (when the markup says)."""

    node: dict[str, Any]
    item: dict[str, Any] | None


def short_types(node: dict[str, Any]) -> set[str]:
    raw = node.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return {_SCHEMA_PREFIX.sub("", v) for v in values if isinstance(v, str)}


def structured_nodes(html: str, url: str) -> tuple[list[dict[str, Any]], int]:
    """Top-level schema.org nodes of a page from all three syntaxes, and the malformed blocks."""
    nodes, malformed = json_ld_nodes(html)
    syntaxes = []
    if "itemscope" in html:
        syntaxes.append("microdata")
    if "typeof=" in html or "vocab=" in html:
        syntaxes.append("rdfa")
    if syntaxes:
        try:
            data = extruct.extract(html, base_url=url, syntaxes=syntaxes, uniform=True,
                                   errors="log")
        except Exception as exc:  # extruct raises whatever its parsers raise on broken markup
            log.warning("structured data of %s unreadable: %s", url, exc)
            return nodes, malformed + 1
        nodes.extend(n for n in data.get("microdata", []) if isinstance(n, dict))
        nodes.extend(fold_rdfa(data.get("rdfa", [])))
    return nodes, malformed


def json_ld_nodes(html: str) -> tuple[list[dict[str, Any]], int]:
    nodes: list[dict[str, Any]] = []
    malformed = 0
    for block in Selector(text=html).xpath('//script[@type="application/ld+json"]/text()').getall():
        try:
            data = json.loads(_CDATA.sub("", block), strict=False)
        except ValueError:
            malformed += 1
            continue
        for node in data if isinstance(data, list) else [data]:
            if isinstance(node, dict):
                graph = node.get("@graph")
                if isinstance(graph, list):
                    nodes.extend(g for g in graph if isinstance(g, dict))
                else:
                    nodes.append(node)
    return nodes, malformed


def fold_rdfa(graph: list[Any]) -> list[dict[str, Any]]:
    """Expanded RDFa nodes (predicates as IRIs, references by @id) as nested schema.org dicts."""
    by_id = {n["@id"]: n for n in graph if isinstance(n, dict) and "@id" in n}
    referenced = {
        v["@id"]
        for n in by_id.values()
        for key, values in n.items()
        if not key.startswith("@") and isinstance(values, list)
        for v in values
        if isinstance(v, dict) and "@id" in v
    }
    return [
        _fold(node, by_id, 0)
        for node_id, node in by_id.items()
        if node_id not in referenced and node.get("@type")
    ]


def _fold(node: dict[str, Any], by_id: dict[str, Any], depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {"@type": sorted(short_types(node))}
    if not str(node.get("@id", "_:")).startswith("_:"):
        out["@id"] = node["@id"]
    for key, values in node.items():
        if key.startswith("@") or not _SCHEMA_PREFIX.match(key) or not isinstance(values, list):
            continue
        folded = [_value(v, by_id, depth) for v in values]
        out[_SCHEMA_PREFIX.sub("", key)] = folded[0] if len(folded) == 1 else folded
    return out


def _value(value: Any, by_id: dict[str, Any], depth: int) -> Any:
    if not isinstance(value, dict):
        return value
    if "@value" in value:
        return value["@value"]
    ref = value.get("@id")
    if ref in by_id and depth < _MAX_DEPTH:
        return _fold(by_id[ref], by_id, depth + 1)
    return ref


def find(nodes: list[dict[str, Any]], wanted: str) -> list[Found]:
    """Every node of type `wanted` with the item it belongs to (its itemReviewed or its parent)."""
    return list(_walk(nodes, wanted, None, 0))


def _walk(value: Any, wanted: str, parent: dict[str, Any] | None, depth: int) -> Iterator[Found]:
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, list):
        for element in value:
            yield from _walk(element, wanted, parent, depth + 1)
        return
    if not isinstance(value, dict):
        return
    types = short_types(value)
    if wanted in types:
        reviewed = value.get("itemReviewed")
        yield Found(value, reviewed if isinstance(reviewed, dict) else parent)
    holder = value if types and not types <= _PART_TYPES else parent
    for key, child in value.items():
        if not key.startswith("@") and key != "itemReviewed" and isinstance(child, (dict, list)):
            yield from _walk(child, wanted, holder, depth + 1)


def text_of(value: Any) -> str | None:
    """A property that may be a string, a number, a {name}/{@value} object or a list of them."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or value.get("text")
        return text_of(value)
    if value is None or isinstance(value, bool):
        return None
    return str(value)


# When a review was written: many sites give only dateCreated, some only dateModified.
DATE_PROPERTIES = ("datePublished", "dateCreated", "dateModified")


def published_of(node: dict[str, Any]) -> str | None:
    """The review's date as written: datePublished, else dateCreated, else dateModified."""
    for key in DATE_PROPERTIES:
        value = text_of(node.get(key))
        if value and value.strip():
            return value
    return None


def number(value: Any) -> float | None:
    text = text_of(value)
    if text is None:
        return None
    try:
        return float(text.replace(",", ".").strip())
    except ValueError:
        return None


def rating_on_scale(rating: dict[str, Any] | None) -> tuple[float | None, float | None]:
    """(rating, scale) on a 1..scale scale; a 0..10 scale is shifted to 1..11."""
    if not isinstance(rating, dict):
        value = number(rating)
        return (value, 5.0) if value is not None and 0 < value <= 5 else (None, None)
    value = number(rating.get("ratingValue"))
    best = number(rating.get("bestRating")) or 5.0
    worst = number(rating.get("worstRating"))
    worst = 1.0 if worst is None else worst
    if value is None or best <= worst or not worst <= value <= best:
        return None, None
    if worst == 1.0:
        return value, best
    return value - worst + 1.0, best - worst + 1.0


def stable_id(*parts: str | None) -> str:
    payload = "\x1f".join(p or "" for p in parts)
    return "sha1:" + hashlib.sha1(payload.encode("utf-8")).hexdigest()
