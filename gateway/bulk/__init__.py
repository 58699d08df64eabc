"""Loading subscribers in bulk (``scgw load``): CSV or NDJSON, every bad row reported."""

from __future__ import annotations

from gateway.bulk.rows import COLUMNS, BadRow, Loaded, SubscriberRow, read_rows

__all__ = ["COLUMNS", "BadRow", "Loaded", "SubscriberRow", "read_rows"]
