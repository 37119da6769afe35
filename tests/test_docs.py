"""What a clone's reader follows: no link out of the repository, every relative link resolves."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# [text](target) and [text]: target; the target up to a space, a ')' or a '#'.
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s#]*)[^)]*\)|^\[[^\]]+\]:\s*(\S+)", re.MULTILINE)


def _tracked() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode()
    return [REPO / name for name in listed.split("\0") if name and (REPO / name).is_file()]


def _documents() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def test_no_file_points_outside_the_repository() -> None:
    offenders = []
    for path in _tracked():
        if path == Path(__file__).resolve():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if "../shared" in text or "shared/reference" in text:
            offenders.append(str(path.relative_to(REPO)))
    assert offenders == [], "cite docs/references.md instead"


@pytest.mark.parametrize("document", _documents(), ids=lambda p: p.name)
def test_every_relative_link_resolves_to_a_file_of_the_repository(document: Path) -> None:
    broken = []
    for match in _LINK.finditer(document.read_text(encoding="utf-8")):
        target = match.group(1) or match.group(2)
        if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target):
            continue  # an anchor in the same page, or a URL
        resolved = (document.parent / target).resolve()
        if not resolved.is_relative_to(REPO) or not resolved.exists():
            broken.append(target)
    assert broken == []
