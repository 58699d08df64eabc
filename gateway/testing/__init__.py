"""Test support shipped with the package: a gateway of a test's own (:class:`Scgw`), the
pytest plugin that hands it out (the ``scgw`` fixture), and scenario files."""

from __future__ import annotations

from gateway.testing.harness import Scgw
from gateway.testing.runner import DEFAULT_CLOCK_START, GatewayConfig, RunningGateway

__all__ = ["DEFAULT_CLOCK_START", "GatewayConfig", "RunningGateway", "Scgw"]
