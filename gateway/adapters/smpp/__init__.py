"""The SMPP 3.4 server: the gateway as the SMSC that applications and harnesses bind to."""

from __future__ import annotations

from gateway.adapters.smpp.accounts import DEMO_ACCOUNTS, Account, load_accounts, parse_accounts
from gateway.adapters.smpp.server import SmppServer

__all__ = ["DEMO_ACCOUNTS", "Account", "SmppServer", "load_accounts", "parse_accounts"]
