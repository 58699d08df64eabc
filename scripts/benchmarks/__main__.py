"""``python -m benchmarks`` (from ``scripts/``): the same as ``scripts/bench.py``."""

from __future__ import annotations

import sys

from benchmarks.bootstrap import prepare

prepare()

from benchmarks.cli import main  # noqa: E402

sys.exit(main())
