"""`python -m mailoauth`: the same entry point as the `mailoauth` console script."""

from mailoauth.cli import main

raise SystemExit(main())
