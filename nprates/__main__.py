"""``python -m nprates``: the command line, with a safe import path.

``python -m`` puts the current folder first on ``sys.path``, where a ``argparse.py`` or
``selectors.py`` lying next to a study would shadow the standard library. It is
dropped here, before anything else is imported (``nprates/__init__`` imports nothing
new), and ``PYTHONSAFEPATH=1`` makes every Python process started from here (the
study's workers) start without it too (Python 3.11's safe-path mode, ``python -P``).
"""

import os
import sys

if not sys.flags.safe_path and sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]
os.environ["PYTHONSAFEPATH"] = "1"

from nprates.cli import main  # noqa: E402  (after the path is safe)

sys.exit(main())
