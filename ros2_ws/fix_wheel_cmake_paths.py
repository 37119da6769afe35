"""Point the ROS 2 wheels' exported CMake files at this interpreter's include folders.

Why this exists: the ros-jazzy-* message wheels were built in a manylinux container, and their
exported CMake files (share/*/cmake/*.cmake in the venv) name two include folders of that
machine, /opt/python/cp311-cp311/include/python3.11 and its numpy include folder. CMake refuses
to generate a package that depends on them while those folders do not exist, so colcon cannot
build chairlink_interfaces. This rewrites both paths to this interpreter's folders. It is
idempotent: a second run finds nothing to change. Run it with the venv's python.
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

import numpy

BUILD_PYTHON_INCLUDE = "/opt/python/cp311-cp311/include/python3.11"
BUILD_NUMPY_INCLUDE = "/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include"


def main() -> int:
    """Rewrite the paths under sys.prefix/share; print how many files changed."""
    replacements = {
        BUILD_NUMPY_INCLUDE: numpy.get_include(),
        BUILD_PYTHON_INCLUDE: sysconfig.get_paths()["include"],
    }
    changed = 0
    for path in sorted(Path(sys.prefix, "share").glob("*/cmake/*.cmake")):
        text = path.read_text(encoding="utf-8")
        fixed = text
        for old, new in replacements.items():
            fixed = fixed.replace(old, new)
        if fixed != text:
            path.write_text(fixed, encoding="utf-8")
            changed += 1
    print(f"fix_wheel_cmake_paths: {changed} CMake files rewritten under {sys.prefix}/share")
    return 0


if __name__ == "__main__":
    sys.exit(main())
