"""``python -m assistant.cli …`` runs the command line (what tests and the web app's workers use)."""

import sys

from assistant.cli import main

sys.exit(main())
