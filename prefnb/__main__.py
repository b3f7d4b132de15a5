"""``python -m prefnb`` runs the command line."""

from prefnb.cli import main

raise SystemExit(main())
