"""``python -m models.training``: make the data set, train, export, check, evaluate, write cards."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from models.training.pipeline import QUICK, RECIPE, run


def main() -> None:
    """Run the pipeline from the command line."""
    parser = argparse.ArgumentParser(prog="python -m models.training", description=__doc__)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent.parent, help="model folder"
    )
    default_data = Path(os.environ.get("CHAIRLINK_DATA", Path.home() / ".cache" / "chairlink"))
    parser.add_argument(
        "--data", type=Path, default=default_data / "training", help="where shards are cached"
    )
    parser.add_argument("--quick", action="store_true", help="a tiny run that checks the steps")
    args = parser.parse_args()
    run(QUICK if args.quick else RECIPE, args.out, args.data)


if __name__ == "__main__":
    main()
