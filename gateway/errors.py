"""Errors raised by the gateway: one root, subclasses that carry their reason."""

from __future__ import annotations

__all__ = [
    "AccountClosed",
    "BulkRefused",
    "ClockError",
    "EmailInUse",
    "GatewayError",
    "InsufficientBalance",
    "InvalidEmail",
    "InvalidMessage",
    "InvalidMsisdn",
    "PlanConflict",
    "RateLimited",
    "SettingError",
    "StorageError",
    "StorageUnavailable",
    "TicketError",
    "UnknownShortcode",
    "UnknownSubscriber",
    "UnknownTicket",
]


class GatewayError(Exception):
    """Root of every error raised by :mod:`gateway`."""


class InvalidMsisdn(GatewayError):
    def __init__(self, value: str) -> None:
        self.value = value
        super().__init__(
            f"invalid MSISDN {value!r}: expected 0xxxxxxxxx, 84xxxxxxxxx or +84xxxxxxxxx"
        )


class InvalidMessage(GatewayError):
    """An inbound message that cannot be processed (malformed payload, missing field)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class UnknownShortcode(GatewayError):
    def __init__(self, shortcode: str) -> None:
        self.shortcode = shortcode
        super().__init__(f"unknown short code {shortcode!r}")


class UnknownSubscriber(GatewayError):
    def __init__(self, msisdn: str) -> None:
        self.msisdn = msisdn
        super().__init__(f"no subscriber {msisdn}")


class ClockError(GatewayError):
    """A clock operation that is not allowed (moving back, advancing a real clock)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class StorageError(GatewayError):
    """The database failed or is not what this version expects."""


class StorageUnavailable(StorageError):
    """Storage cannot take writes now (disk full, I/O error, read-only file, locked).

    Nothing was written. The gateway holds the work and retries it with backoff: an MO
    stays unacknowledged at the broker, HTTP answers 503, SMTP a 4xx.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"storage unavailable: {reason}")


class RateLimited(GatewayError):
    """Too many MOs from one sender: the excess is refused, not stored, not charged."""

    def __init__(self, msisdn: str, rate: float, burst: int) -> None:
        self.msisdn = msisdn
        self.rate = rate
        self.burst = burst
        super().__init__(
            f"rate limited: {msisdn} sent more than {rate:g} messages per second"
            f" (bursts of {burst}); this one was not processed"
        )


class InsufficientBalance(GatewayError):
    """A prepaid balance below what a charge asks: nothing was charged or sent."""

    def __init__(self, msisdn: str, amount: int, balance: int) -> None:
        self.msisdn = msisdn
        self.amount = amount
        self.balance = balance
        super().__init__(f"{msisdn} has {balance}đ, {amount}đ needed: nothing was charged")


class InvalidEmail(GatewayError):
    """A value that is not a plausible email address."""

    def __init__(self, value: str, reason: str) -> None:
        self.value = value
        self.reason = reason
        super().__init__(f"invalid email address {value!r}: {reason}")


class AccountClosed(GatewayError):
    """The account was closed through a support ticket; its data is kept, read-only."""

    def __init__(self, msisdn: str) -> None:
        self.msisdn = msisdn
        super().__init__(f"the account {msisdn} is closed")


class EmailInUse(GatewayError):
    def __init__(self, address: str, msisdn: str) -> None:
        self.address = address
        self.msisdn = msisdn
        super().__init__(f"{address} is already the email of {msisdn}")


class UnknownTicket(GatewayError):
    def __init__(self, ticket_id: int) -> None:
        self.ticket_id = ticket_id
        super().__init__(f"no ticket #{ticket_id}")


class TicketError(GatewayError):
    """A ticket operation that is not allowed in the ticket's state (a 409)."""

    def __init__(self, ticket_id: int, reason: str) -> None:
        self.ticket_id = ticket_id
        self.reason = reason
        super().__init__(f"ticket #{ticket_id}: {reason}")


class SettingError(GatewayError):
    """A setting the gateway cannot start with: a port in use, a database another gateway
    holds, a database last run with the other clock. ``setting`` is the field name
    (``smtp_port``); the command line names it as the user gave it."""

    def __init__(self, setting: str, reason: str) -> None:
        self.setting = setting
        self.reason = reason
        super().__init__(f"SCGW_{setting.upper()}: {reason}")


class BulkRefused(GatewayError):
    """A bulk load with rows the rules refuse: nothing was loaded (a 422 listing them)."""

    def __init__(self, refused: list[tuple[int, str]]) -> None:
        self.refused = refused
        super().__init__(f"{len(refused)} row(s) refused; nothing was loaded")


class PlanConflict(GatewayError):
    """A plan loaded in bulk where the subscriber already has an open one of its group."""

    def __init__(self, msisdn: str, package: str, current: str) -> None:
        self.msisdn = msisdn
        self.package = package
        self.current = current
        super().__init__(f"{msisdn} already has {current}, in the group of {package}")
