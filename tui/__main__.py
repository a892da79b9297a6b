"""`python -m tui` runs the app."""

from __future__ import annotations

import sys

from tui.cli import main

sys.exit(main())
