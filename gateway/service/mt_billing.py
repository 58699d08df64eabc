"""MTs an application is paid for per message (an SMPP account's ``mt_price``): the charge
is booked in the transaction that queues the MT, so neither goes without the other."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from carrier_rules import Charge
from gateway.domain.model import Outgoing
from gateway.errors import AccountClosed, InsufficientBalance, UnknownSubscriber
from gateway.service import billing
from gateway.service.context import Context

__all__ = ["charge_mt"]

#: the zone of an MT charge's invoice month (an application's short code has no catalog)
_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def charge_mt(ctx: Context, mt: Outgoing, price: int) -> str:
    """Charge the receiver of ``mt`` (queued in this transaction) ``price`` for it: off the
    prepaid balance with its ledger entry, or a line on the postpaid invoice. Returns the
    charge id; the charge's ``message_id`` is the MT's id.

    Raises ``UnknownSubscriber``, ``AccountClosed`` or, prepaid, ``InsufficientBalance``
    before booking anything: the caller's transaction then rolls the MT back too."""
    subscriber = ctx.tx.subscribers.get(mt.msisdn)
    if subscriber is None:
        raise UnknownSubscriber(mt.msisdn)
    if subscriber.status == "closed":
        raise AccountClosed(mt.msisdn)
    if subscriber.kind == "prepaid" and subscriber.balance < price:
        raise InsufficientBalance(mt.msisdn, price, subscriber.balance)
    return billing.book(
        ctx,
        subscriber,
        None,
        mt.shortcode,
        Charge(price, "mt_price"),
        "mt",
        mt.at,
        _ZONE,
        mt.id,
        {
            "shortcode": mt.shortcode,
            "mt_price": price,
            "segments": mt.segments,
            "subscriber_kind": subscriber.kind,
        },
    )
