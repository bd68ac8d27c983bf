"""Every relative link in the README, docs/ and the model card points to a file that exists
(and, with `#anchor`, to a heading of that file); no image comes from the web."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO

DOCUMENTS = sorted(
    [REPO / "README.md", REPO / "sentiment" / "MODEL.md", *(REPO / "docs").glob("*.md")]
)
LINK = re.compile(r"(!?)\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)


def _links(path: Path) -> list[tuple[bool, str]]:
    """(is an image, target) of every Markdown link outside fenced code blocks."""
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return [(match.group(1) == "!", match.group(2)) for match in LINK.finditer(text)]


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    anchors: set[str] = set()
    for line in text.splitlines():
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            slug = _slug(match.group(1))
            candidate, n = slug, 1
            while candidate in anchors:
                candidate, n = f"{slug}-{n}", n + 1
            anchors.add(candidate)
    return anchors


def test_there_are_documents_to_check() -> None:
    names = {p.relative_to(REPO).as_posix() for p in DOCUMENTS}
    assert {"README.md", "sentiment/MODEL.md", "docs/configuration.md"} <= names


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_relative_links_point_to_existing_files(document: Path) -> None:
    broken = []
    for is_image, target in _links(document):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto: ...
            assert not is_image, f"{document.name}: image from the web: {target}"
            continue
        path_part, _, anchor = target.partition("#")
        resolved = (document.parent / path_part).resolve() if path_part else document
        if not resolved.exists():
            broken.append(f"{target} (no such file)")
            continue
        if anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(f"{target} (no heading #{anchor})")
    assert not broken, f"{document.relative_to(REPO)}: broken links: {broken}"


def test_readme_starts_with_the_two_commands() -> None:
    head = "\n".join((REPO / "README.md").read_text(encoding="utf-8").splitlines()[:40])
    assert "make demo" in head and "make test" in head


def test_readme_is_a_front_door() -> None:
    assert len((REPO / "README.md").read_text(encoding="utf-8")) < 10_000
