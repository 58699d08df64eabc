"""Mail on behalf of a catalog's short code: event confirmations and replies to commands."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from carrier_rules import Catalog, Language
from gateway.domain.mail import MailKind, OutgoingMail
from gateway.service.ports import Transaction
from gateway.service.replies import Replies

__all__ = ["CatalogMailer"]


class CatalogMailer:
    """Fills a catalog's email templates and records the mail in the transaction."""

    def __init__(
        self, *, catalog: Catalog, replies: Replies, domain: str, new_id: Callable[[], str]
    ) -> None:
        self._replies = replies
        self._new_id = new_id
        self._sender = f"{catalog.shortcode}@{domain}"
        self._sender_name = f"{catalog.operator} {catalog.shortcode}"

    def send(
        self,
        tx: Transaction,
        *,
        to: str,
        lang: Language,
        key: MailKind,
        at: datetime,
        msisdn: str,
        in_reply_to: str | None = None,
        **fields: Any,
    ) -> None:
        subject, body = self._replies.email(lang, key, msisdn=msisdn, **fields)
        tx.mail.add(
            OutgoingMail(
                id=self._new_id(),
                sender=self._sender,
                sender_name=self._sender_name,
                to=(to,),
                subject=subject,
                body=body,
                at=at,
                kind=key,
                msisdn=msisdn,
                in_reply_to=in_reply_to,
                references=() if in_reply_to is None else (in_reply_to,),
            )
        )
