"""SMPP over TLS: the listener's server-side context, from a certificate and its key."""

from __future__ import annotations

import ssl
from pathlib import Path

from gateway.errors import SettingError

__all__ = ["server_context"]


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A TLS 1.2+ server context with ``cert`` (PEM, the chain after the certificate) and
    its private ``key``; a file that will not load is a ``SettingError`` naming it."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(certfile=cert, keyfile=key)
    except ssl.SSLError as exc:
        raise SettingError(
            "smpp_tls_cert",
            f"not a PEM certificate that goes with the key {key} ({exc.reason or exc})",
        ) from exc
    except OSError as exc:
        raise SettingError(
            "smpp_tls_cert", f"cannot read {cert} or {key}: {exc.strerror or exc}"
        ) from exc
    return context
