"""docs/hazards.md names the tests that show each mitigation works: every one must exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NAMED = re.compile(r"`((?:[\w/]+\.py)?)::(test_\w+)`")


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}


def test_every_test_the_hazard_log_names_exists() -> None:
    by_name = {p.name: p for p in (REPO / "tests").rglob("test_*.py")}
    missing = []
    named = 0
    for line in (REPO / "docs" / "hazards.md").read_text(encoding="utf-8").splitlines():
        current: Path | None = None
        for file, test in NAMED.findall(line):
            if file:
                current = REPO / file if "/" in file else by_name.get(file)
            named += 1
            if current is None or not current.exists() or test not in _tests_in(current):
                missing.append(f"{file or (current.name if current else '?')}::{test}")
    assert named > 30
    assert missing == []
