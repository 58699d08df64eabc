"""Import paths: the repository (for ``gateway`` and ``tests.support``) and ``scripts/``."""

from __future__ import annotations

import sys
from pathlib import Path

_SCRIPTS = Path(__file__).resolve().parents[1]


def prepare() -> None:
    for path in (str(_SCRIPTS.parent), str(_SCRIPTS)):
        if path not in sys.path:
            sys.path.insert(0, path)
