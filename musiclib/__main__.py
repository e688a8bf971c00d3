"""``python -m musiclib``: see :mod:`musiclib.cli`."""

from musiclib.cli import main

raise SystemExit(main())
