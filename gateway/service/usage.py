"""Data used in an app: zero-rated by a plan that covers the app, else charged per MB."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from carrier_rules import Charge
from gateway.domain.model import Subscriber, UsageRecord
from gateway.service import billing
from gateway.service.context import Context

__all__ = ["UsageResult", "record_usage"]

#: the time zone of a data charge for an app no catalog sells (the invoice month is local)
_DEFAULT_ZONE = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True, slots=True)
class UsageResult:
    """What one usage event did: zero-rated by a pack, or charged out of bundle."""

    zero_rated: bool
    package: str | None
    charged: int
    duplicate: bool = False


def record_usage(
    ctx: Context,
    subscriber: Subscriber,
    *,
    app: str,
    n_bytes: int,
    now: datetime,
    event_id: str | None,
    default_rate_per_mb: int,
) -> UsageResult:
    """Data used in ``app``: zero-rated and counted by a pack that covers the app, else
    charged per started MB at the out-of-bundle rate (prepaid balance, down to zero;
    postpaid invoice)."""
    tx = ctx.tx
    if event_id is not None and tx.usage.seen(subscriber.msisdn, event_id):
        return UsageResult(False, None, 0, duplicate=True)
    for sub in tx.subscriptions.open_of(subscriber.msisdn):
        product = ctx.catalogue.get(sub.package)
        # a plan paused by a retention offer still serves the month already paid
        serving = sub.is_serving or (sub.status == "paused" and now <= sub.expires_at)
        if product is None or product.package.app != app or not serving:
            continue
        sub.use(n_bytes)
        tx.subscriptions.put(sub)
        tx.usage.add(UsageRecord(subscriber.msisdn, app, n_bytes, now, sub.id, None, event_id))
        return UsageResult(True, sub.package, 0)
    rate, catalog = default_rate_per_mb, None
    for candidate in ctx.catalogue.catalogs.values():
        if any(p.app == app for p in candidate.packages):
            catalog = candidate
            if candidate.out_of_bundle_per_mb is not None:
                rate = candidate.out_of_bundle_per_mb
            break
    megabytes = math.ceil(n_bytes / 1_000_000)
    amount = megabytes * rate
    inputs: dict[str, object] = {
        "app": app,
        "bytes": n_bytes,
        "megabytes_started": megabytes,
        "rate_per_mb": rate,
        "subscriber_kind": subscriber.kind,
    }
    if subscriber.kind == "prepaid" and amount > subscriber.balance:
        inputs["owed"] = amount - subscriber.balance
        amount = subscriber.balance
    charge_id = None
    if amount > 0:
        zone = ZoneInfo(catalog.timezone if catalog else _DEFAULT_ZONE)
        charge_id = billing.book(
            ctx,
            subscriber,
            None,
            "DATA",
            Charge(amount, "out_of_bundle_per_mb"),
            "usage",
            now,
            zone,
            None,
            inputs,
        )
    tx.usage.add(UsageRecord(subscriber.msisdn, app, n_bytes, now, None, charge_id, event_id))
    return UsageResult(False, None, amount)
