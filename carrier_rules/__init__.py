"""Pure carrier rules: catalogs as data, validity, pricing and renewal policy.

Nothing here does I/O, uses asyncio or reads the wall clock: every function takes
the instant it decides for.
"""

from __future__ import annotations

from carrier_rules.calendar import end_of_month, month_key, require_aware, start_of_next_month
from carrier_rules.catalog import (
    EMAIL_KEYS,
    LANGUAGES,
    Catalog,
    EmailTemplate,
    Keywords,
    Language,
    Package,
    PostpaidProration,
    RenewalPolicy,
    SubscriberKind,
    ValidityRule,
    parse_catalog,
)
from carrier_rules.errors import CarrierRulesError, CatalogError
from carrier_rules.notices import (
    Announcement,
    announcements,
    first_renewal_at_version,
    version_rule,
)
from carrier_rules.policy import (
    CancelDecision,
    Holding,
    Offer,
    can_reactivate,
    cancel_decision,
    list_price,
    renewal_price,
    retention_offers,
    term_end,
    trial_end,
)
from carrier_rules.pricing import Charge, cancellation_adjustment, percent_of, period_charge
from carrier_rules.renewal import next_retry
from carrier_rules.support import SupportPolicy, Verification, parse_support_policy
from carrier_rules.terms import (
    Cancellation,
    Commitment,
    PriceVersion,
    ProrationCase,
    RefundRule,
    Retention,
    TerminationFee,
    Trial,
)
from carrier_rules.validity import Period, period_from

__all__ = [
    "EMAIL_KEYS",
    "LANGUAGES",
    "Announcement",
    "CancelDecision",
    "Cancellation",
    "CarrierRulesError",
    "Catalog",
    "CatalogError",
    "Charge",
    "Commitment",
    "EmailTemplate",
    "Holding",
    "Keywords",
    "Language",
    "Offer",
    "Package",
    "Period",
    "PostpaidProration",
    "PriceVersion",
    "ProrationCase",
    "RefundRule",
    "RenewalPolicy",
    "Retention",
    "SubscriberKind",
    "SupportPolicy",
    "TerminationFee",
    "Trial",
    "ValidityRule",
    "Verification",
    "announcements",
    "can_reactivate",
    "cancel_decision",
    "cancellation_adjustment",
    "end_of_month",
    "first_renewal_at_version",
    "list_price",
    "month_key",
    "next_retry",
    "parse_catalog",
    "parse_support_policy",
    "percent_of",
    "period_charge",
    "period_from",
    "renewal_price",
    "require_aware",
    "retention_offers",
    "start_of_next_month",
    "term_end",
    "trial_end",
    "version_rule",
]
