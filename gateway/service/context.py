"""What every use case works with: the transaction, its effects, the catalogs, the settings."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.service.announcements import PriceNotices
from gateway.service.catalogue import Catalogue
from gateway.service.effects import Effects
from gateway.service.ports import Transaction

__all__ = ["Context", "Policy"]


@dataclass(frozen=True, slots=True)
class Policy:
    """The gateway's own settings the rules read (the catalogs' are in the catalogs)."""

    auto_provision: bool = True
    default_balance: int = 50_000


@dataclass(frozen=True, slots=True)
class Context:
    """One use case's world: write through ``tx``, send through ``fx``."""

    tx: Transaction
    fx: Effects
    catalogue: Catalogue
    notices: PriceNotices
    policy: Policy

    def new_id(self) -> str:
        return self.catalogue.new_id()
