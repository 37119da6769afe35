"""``python -m chairlink`` runs the command line."""

from chairlink.cli.main import main

raise SystemExit(main())
