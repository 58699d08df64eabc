"""shortcode-gateway: an SMS short-code simulator for value-added subscriptions."""

from __future__ import annotations

__version__ = "0.1.0"
