"""Errors raised by the gateway: one root, subclasses that carry their reason."""

from __future__ import annotations

__all__ = [
    "ClockError",
    "GatewayError",
    "InvalidMessage",
    "InvalidMsisdn",
    "StorageError",
    "UnknownShortcode",
    "UnknownSubscriber",
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
