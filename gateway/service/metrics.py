"""Prometheus metrics (prometheus-client): one registry per gateway, rendered at ``/metrics``.

The hot path only increments counters it already has in hand: the engine's per-commit
tally of event kinds (``charge_<reason>``, ``renewal``...) is added once per commit, and
per-MO counters are labelled children looked up once per short code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, Histogram
from prometheus_client import Counter as PromCounter
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST

#: renewal outcomes counted from the engine's tally kinds
_RENEWAL_KINDS = {"renewal": "renewed", "renewal_failed": "failed", "expiry": "expired"}
_LATENCY = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_BATCH = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class Metrics:
    """The gateway's counters, histograms and gauges (``docs/operations.md`` lists them)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.mo = PromCounter(
            "scgw_mo", "MOs by short code and outcome", ["shortcode", "outcome"], registry=r
        )
        self.mt = PromCounter("scgw_mt", "MTs published, by short code", ["shortcode"], registry=r)
        self.charges = PromCounter(
            "scgw_charges", "Charges booked, by reason (refunds included)", ["reason"], registry=r
        )
        self.renewals = PromCounter(
            "scgw_renewals", "Due renewals by outcome", ["outcome"], registry=r
        )
        self.price_notices = PromCounter(
            "scgw_price_notices", "Price change notices sent (seed 001)", registry=r
        )
        self.batch_size = Histogram(
            "scgw_batch_size", "MOs per group commit", buckets=_BATCH, registry=r
        )
        self.commit_seconds = Histogram(
            "scgw_commit_seconds", "Time to commit one transaction", buckets=_LATENCY, registry=r
        )
        self.reply_seconds = Histogram(
            "scgw_mo_reply_seconds",
            "From an MO's arrival to its replies committed (and its ack released)",
            buckets=_LATENCY,
            registry=r,
        )
        self.storage_errors = PromCounter(
            "scgw_storage_errors",
            "Writes refused by storage (disk full, I/O, read-only)",
            registry=r,
        )
        self.outbox_depth = Gauge(
            "scgw_outbox_depth", "Committed MTs waiting in memory to be published", registry=r
        )
        self.broker_connected = Gauge(
            "scgw_broker_connected", "1 while the MQTT broker connection is up", registry=r
        )
        self.ready = Gauge(
            "scgw_ready", "Readiness of each component (1 ready, 0 not)", ["component"], registry=r
        )
        self._children: dict[tuple[Any, tuple[str, ...]], Any] = {}

    def child(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, looked up once (prometheus-client takes a lock and
        builds a key on every ``labels`` call)."""
        key = (metric, labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found

    def count_commit(self, counts: Counter[str]) -> None:
        """Add one committed transaction's tally of engine events."""
        for kind, n in counts.items():
            if kind.startswith("charge_"):
                self.child(self.charges, kind.removeprefix("charge_")).inc(n)
            elif kind in _RENEWAL_KINDS:
                self.child(self.renewals, _RENEWAL_KINDS[kind]).inc(n)
            elif kind == "price_notice":
                self.price_notices.inc(n)

    def watch_outbox(self, depth: Callable[[], float]) -> None:
        self.outbox_depth.set_function(depth)

    def watch_broker(self, connected: Callable[[], float]) -> None:
        self.broker_connected.set_function(connected)

    def render(self) -> bytes:
        return generate_latest(self.registry)
