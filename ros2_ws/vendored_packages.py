"""Print the vendored packages (ros2_ws/vendor/NAME) that colcon must build here.

Why this exists: PyPI has no wheel of some packages every ROS 2 Jazzy install from apt has
(tf2_msgs). ros2_ws/vendor holds copies of them, which a plain `colcon build` skips
(COLCON_IGNORE) so a chair's workspace never shadows its distribution's own. `make ros` passes
the folders printed here to colcon's --base-paths: those whose package the ament index
(AMENT_PREFIX_PATH, the prefixes colcon builds against) lacks. Run it with the venv's python.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ament_index_python import get_packages_with_prefixes

VENDOR = Path(__file__).resolve().parent / "vendor"


def missing() -> list[str]:
    """The vendored packages the ament index lacks, as paths relative to ros2_ws."""
    known = get_packages_with_prefixes()
    return [
        f"vendor/{package.parent.name}"
        for package in sorted(VENDOR.glob("*/package.xml"))
        if package.parent.name not in known
    ]


def main() -> int:
    """Print the folders, space-separated (nothing when the index has every package)."""
    sys.stdout.write(" ".join(missing()) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
