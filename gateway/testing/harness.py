"""``Scgw``: what the ``scgw`` fixture yields, a running gateway with a small typed API."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from gateway.client import (
    UNSET,
    AdvanceResult,
    ApiError,
    Charge,
    Client,
    Invoice,
    LedgerEntry,
    Mail,
    Message,
    Reply,
    SmsResult,
    Subscriber,
    Unset,
    UsageResult,
)
from gateway.domain.msisdn import canonical_msisdn
from gateway.errors import InvalidMsisdn
from gateway.testing.runner import RunningGateway

__all__ = ["Scgw"]

#: how much of a subscriber's history a failure report shows
RECENT = 10


class Scgw:
    """A running gateway: virtual clock, fresh SQLite, its own broker, free ports.

    Every number may be given as ``0912…``, ``84912…`` or ``+84912…``. The numbers a test
    touched are remembered, so a failing test's report shows their recent MOs, MTs and
    charges.
    """

    def __init__(self, gateway: RunningGateway) -> None:
        self.gateway = gateway
        self.touched: dict[str, None] = {}

    def __repr__(self) -> str:
        running = self.gateway.running is not None
        return f"<Scgw {self.gateway.http_url if running else 'stopped'}>"

    # -- addresses, for tests that speak the protocols themselves ----------------------

    @property
    def client(self) -> Client:
        """The full HTTP client (:class:`gateway.client.Client`)."""
        return self.gateway.client

    @property
    def http_url(self) -> str:
        return self.gateway.http_url

    @property
    def mqtt_url(self) -> str:
        return self.gateway.mqtt_url

    @property
    def mqtt_host(self) -> str:
        return self.gateway.mqtt_host

    @property
    def mqtt_port(self) -> int:
        return self.gateway.mqtt_port

    @property
    def smtp_port(self) -> int:
        return self.gateway.smtp_port

    @property
    def database_path(self) -> Path:
        return self.gateway.database_path

    @property
    def broker(self) -> str:
        """``mosquitto`` (a private one) or ``embedded`` (amqtt in the gateway's loop)."""
        return self.gateway.broker

    def _touch(self, msisdn: str) -> str:
        try:
            number = canonical_msisdn(msisdn)
        except InvalidMsisdn:
            return msisdn  # the gateway says what is wrong with it
        self.touched[number] = None
        return number

    # -- subscribers --------------------------------------------------------------------

    def provision(
        self,
        msisdn: str,
        kind: Literal["prepaid", "postpaid"] = "prepaid",
        balance: int | None = None,
        *,
        language: str | None = None,
        email: str | Unset | None = UNSET,
    ) -> Subscriber:
        """Create (or update) a subscriber; ``balance`` None: the default balance."""
        return self.client.provision(
            self._touch(msisdn), kind=kind, balance=balance, language=language, email=email
        )

    def subscriber(self, msisdn: str) -> Subscriber:
        return self.client.subscriber(self._touch(msisdn))

    def balance(self, msisdn: str) -> int:
        return self.subscriber(msisdn).balance

    def topup(self, msisdn: str, amount: int) -> Subscriber:
        return self.client.topup(self._touch(msisdn), amount)

    def charges(self, msisdn: str) -> list[Charge]:
        return self.client.charges(self._touch(msisdn))

    def ledger(self, msisdn: str) -> list[LedgerEntry]:
        return self.client.ledger(self._touch(msisdn))

    def invoice(self, msisdn: str, month: str) -> Invoice:
        """A postpaid invoice, ``month`` as ``YYYY-MM``."""
        return self.client.invoice(self._touch(msisdn), month)

    # -- traffic ------------------------------------------------------------------------

    def sms(self, msisdn: str, text: str, to: str = "888", *, id: str | None = None) -> list[Reply]:
        """Text a short code from ``msisdn``; the replies, once committed."""
        return self.send(msisdn, text, to=to, id=id).replies

    def send(self, msisdn: str, text: str, to: str = "888", *, id: str | None = None) -> SmsResult:
        """Like :meth:`sms`, with the MO's id and whether it was a duplicate."""
        return self.client.sms(self._touch(msisdn), text, to=to, id=id)

    def messages(self, msisdn: str) -> list[Message]:
        """Everything to and from ``msisdn``, oldest first (none for an unknown number)."""
        number = self._touch(msisdn)
        try:
            return self.client.messages(number, limit=1000)
        except ApiError as exc:
            if exc.status == 404:
                return []
            raise

    def mt(self, msisdn: str) -> list[Message]:
        """Every SMS sent to ``msisdn`` so far (replies, renewals, notices), oldest first."""
        return [m for m in self.messages(msisdn) if m.direction == "mt"]

    def mo(self, msisdn: str) -> list[Message]:
        """Every SMS ``msisdn`` sent, oldest first."""
        return [m for m in self.messages(msisdn) if m.direction == "mo"]

    def usage(self, msisdn: str, app: str, size: int, *, id: str | None = None) -> UsageResult:
        """Report ``size`` bytes of data used in ``app``."""
        return self.client.usage(self._touch(msisdn), app, size, id=id)

    def mails(self, to: str | None = None) -> list[Mail]:
        """Mail the gateway sent (to ``to``), newest first."""
        return self.client.mails(None if to is None else f"to:{to}", limit=1000)

    # -- the clock ----------------------------------------------------------------------

    def now(self) -> datetime:
        return self.client.clock().now

    def advance(
        self,
        *,
        days: float = 0,
        hours: float = 0,
        minutes: float = 0,
        seconds: float = 0,
        to: datetime | str | None = None,
    ) -> AdvanceResult:
        """Move the virtual clock forward; every renewal due on the way runs, in order.
        ``to`` is an instant (an ISO 8601 string with its offset, or an aware datetime)."""
        if isinstance(to, str):
            to = datetime.fromisoformat(to)
        return self.client.advance(days=days, hours=hours, minutes=minutes, seconds=seconds, to=to)

    # -- failure reports ----------------------------------------------------------------

    def report(self, msisdns: list[str] | None = None, *, recent: int = RECENT) -> str:
        """The recent MOs, MTs and charges of ``msisdns`` (default: every number the test
        touched), for a failing test's report."""
        numbers = list(self.touched) if msisdns is None else [self._touch(m) for m in msisdns]
        lines = [f"gateway {self.http_url} (broker: {self.broker}), clock {self._now_text()}"]
        for number in numbers:
            lines.append("")
            lines.extend(self._history(number, recent))
        return "\n".join(lines)

    def _now_text(self) -> str:
        try:
            return self.now().isoformat()
        except Exception as exc:  # a report must not fail the report
            return f"unknown ({exc})"

    def _history(self, number: str, recent: int) -> list[str]:
        try:
            who = self.client.subscriber(number)
        except ApiError as exc:
            return [f"{number}: {exc.detail}"]
        except Exception as exc:
            return [f"{number}: cannot read it ({exc})"]
        plans = ", ".join(f"{s.package} {s.status}" for s in who.subscriptions) or "no plans"
        lines = [f"{number} ({who.kind}, balance {who.balance:,}đ): {plans}"]
        sms = self.client.messages(number, limit=recent)
        lines.append(f"  last {len(sms)} SMS:")
        for m in sms:
            arrow = "MO ->" if m.direction == "mo" else "MT <-"
            lines.append(f"    {m.at.isoformat()} {arrow} {m.shortcode}: {m.text}")
        charges = self.client.charges(number)[-recent:]
        lines.append(f"  last {len(charges)} charges:")
        for c in charges:
            where = "balance" if c.billing == "balance" else f"invoice {c.invoice_month}"
            lines.append(
                f"    {c.at.isoformat()} {c.package} {c.reason} {c.amount:,}đ ({c.rule}, {where})"
            )
        return lines
