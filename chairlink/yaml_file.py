"""Reading a YAML file a user names: every way it can fail is one line naming the file.

The chair config, scenarios, sites and model descriptions all load through ``read_yaml``, so a
missing file, a folder, a binary file or broken YAML reads the same everywhere, in the error
class of the part that asked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from chairlink.errors import ChairlinkError

__all__ = ["read_yaml", "yaml_problem"]


def yaml_problem(err: yaml.YAMLError) -> str:
    """PyYAML's error on one line: what is wrong and where (its own text spans several)."""
    if isinstance(err, yaml.MarkedYAMLError) and err.problem_mark is not None:
        mark = err.problem_mark
        return f"{err.problem} at line {mark.line + 1}, column {mark.column + 1}"
    return " ".join(str(err).split())


def read_yaml(path: str | Path, what: str, error: type[ChairlinkError]) -> Any:
    """The parsed content of a YAML file (None when it is empty).

    Args:
        path: the file.
        what: what the file should be, for the messages ("chair config", "scenario").
        error: the error class to raise, the asking part's own.

    Raises:
        ChairlinkError: (of class ``error``) the file cannot be read, is not UTF-8 text, or is
            not YAML; the one-line message names the file.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise error(f"{path}: cannot read {what}: {err.strerror}") from err
    except UnicodeDecodeError as err:
        raise error(f"{path}: not a text file (byte {err.start} is not UTF-8)") from err
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise error(f"{path}: not valid YAML: {yaml_problem(err)}") from err
