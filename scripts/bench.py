"""The entry point of ``scripts/bench``: the code is the ``scripts/benchmarks`` package.

``--help`` lists the options; ``--quick`` is the small run of the test suite.
"""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
for _path in (str(SCRIPTS.parent), str(SCRIPTS)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from benchmarks.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
