"""``python -m grounded`` runs the CLI."""

from grounded.cli import main

raise SystemExit(main())
