"""A benchmark figure and the table and JSON file they end up in."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

__all__ = ["Figure", "report"]

_COMPARE: dict[str, Callable[[float, float], bool]] = {">=": operator.ge, "<=": operator.le}


@dataclass(frozen=True)
class Figure:
    """One measured figure, named as the issues name it, with its target."""

    name: str
    value: float
    unit: str
    target_op: str
    target: float
    detail: str = ""

    @property
    def met(self) -> bool:
        """Whether the value meets its target."""
        return _COMPARE[self.target_op](self.value, self.target)

    def as_json(self) -> dict[str, object]:
        """The figure as bench/results.json records it."""
        return {
            "value": round(self.value, 4),
            "unit": self.unit,
            "target": f"{self.target_op} {self.target:g}",
        }


def report(figures: list[Figure], path: Path) -> bool:
    """Print the table, merge the figures into ``path``; return whether all targets were met."""
    table = Table(title="chairlink benchmarks")
    for column in ("figure", "value", "unit", "target", "met", "detail"):
        table.add_column(column)
    for f in figures:
        table.add_row(
            f.name,
            f"{f.value:,.3f}",
            f.unit,
            f"{f.target_op} {f.target:g}",
            "[green]yes[/green]" if f.met else "[red]NO[/red]",
            f.detail,
        )
    Console(width=140).print(table)
    results: dict[str, object] = {}
    if path.exists():
        results = json.loads(path.read_text(encoding="utf-8"))
    results.update({f.name: f.as_json() for f in figures})
    path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return all(f.met for f in figures)
