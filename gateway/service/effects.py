"""What one transaction sends: MTs, mails, live events; collected here and handed back.

A use case writes its state through the transaction and its outward effects through
``Effects``: an MT goes to the outbox (``tx.add_outgoing``) and a live event is noted
(kept in the ``activity`` table when it has no row of its own). The events and their
counts are read by whoever committed the transaction (``events``, ``tally``) and
published only once it committed: nothing of a rolled-back transaction is ever shown.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from carrier_rules import Catalog, Language
from gateway.domain.encoding import layout
from gateway.domain.events import ACTIVITY_KINDS, EventKind, LiveEvent
from gateway.domain.mail import MailKind
from gateway.domain.model import InboundSms, Outgoing, Subscriber
from gateway.service.catalogue import Catalogue, Product
from gateway.service.ports import Transaction

__all__ = ["Effects"]


class Effects:
    """The effects of one transaction. ``record=False`` (nobody listens) only counts the
    live events, which keeps bulk renewals cheap."""

    def __init__(self, tx: Transaction, catalogue: Catalogue, *, record: bool = False) -> None:
        self.tx = tx
        self.catalogue = catalogue
        self.recording = record
        self.events: list[LiveEvent] = []
        self.tally: Counter[str] = Counter()

    def note(self, kind: EventKind, at: datetime, **fields: object) -> None:
        """A live event (and an ``activity`` row for a plan event with no row of its own)."""
        self.tally[kind] += 1
        if kind in ACTIVITY_KINDS:
            event = LiveEvent(kind, at, fields)
            self.tx.activity.add(event)
            if self.recording:
                self.events.append(event)
        elif self.recording:
            self.events.append(LiveEvent(kind, at, fields))

    def count(self, kind: str) -> None:
        """Count an event without building it (the metrics read the tally)."""
        self.tally[kind] += 1

    def sms(
        self,
        sender: str,
        msisdn: str,
        text: str,
        *,
        in_reply_to: str | None,
        at: datetime,
        answer: bool = True,
    ) -> Outgoing:
        """Queue an MT from ``sender`` (a short code or sender id) in this transaction."""
        shape = layout(text)
        message = Outgoing(
            id=self.catalogue.new_id(),
            shortcode=sender,
            msisdn=msisdn,
            text=text,
            in_reply_to=in_reply_to,
            encoding=shape.encoding,
            segments=shape.segments,
            at=at,
        )
        self.tx.outbox.add(message, answer=answer)
        if not self.recording:  # the hot path of bulk renewals: count only
            self.tally["mt"] += 1
            return message
        self.note(
            "mt",
            at,
            id=message.id,
            msisdn=msisdn,
            shortcode=sender,
            text=text,
            in_reply_to=in_reply_to,
            encoding=shape.encoding,
            segments=shape.segments,
        )
        return message

    def reply(
        self,
        catalog: Catalog,
        msisdn: str,
        text: str,
        in_reply_to: str | None,
        at: datetime,
        *,
        answer: bool = True,
    ) -> Outgoing:
        """An MT from a catalog's short code."""
        return self.sms(
            catalog.shortcode, msisdn, text, in_reply_to=in_reply_to, at=at, answer=answer
        )

    def mail(
        self, product: Product, subscriber: Subscriber, key: MailKind, text: str, at: datetime
    ) -> None:
        """The confirmation email of an event, to subscribers that have an address."""
        if subscriber.email is None:
            return
        self.catalogue.mailers[product.catalog.shortcode].send(
            self.tx,
            to=subscriber.email,
            lang=product.replies.language(subscriber.language),
            key=key,
            at=at,
            msisdn=subscriber.msisdn,
            text=text,
            package=product.package.code,
        )

    def mail_reply(
        self,
        catalog: Catalog,
        subscriber: Subscriber,
        sms: InboundSms,
        texts: list[str],
        lang: Language,
        at: datetime,
    ) -> None:
        """A command that came by email is answered by email too, in its thread."""
        origin = sms.email
        assert origin is not None
        self.catalogue.mailers[catalog.shortcode].send(
            self.tx,
            to=origin.address,
            lang=lang,
            key="reply",
            at=at,
            msisdn=subscriber.msisdn,
            in_reply_to=origin.message_id,
            text="\n\n".join(texts),
            command=sms.text,
        )
