"""A catalog's texts: the replies and emails it must give, in which languages, and those it
may word itself and otherwise gets (added after the first catalogs were written, so a
catalog written before them stays valid)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeVar

__all__ = [
    "DEFAULT_EMAILS",
    "DEFAULT_TEMPLATES",
    "EMAIL_KEYS",
    "LANGUAGES",
    "TEMPLATE_KEYS",
    "Language",
    "require_keys",
]

Language = Literal["vi", "vi-diacritics", "en"]
LANGUAGES: tuple[Language, ...] = ("vi", "vi-diacritics", "en")

#: Every reply a catalog must provide a template for, in every language.
TEMPLATE_KEYS: frozenset[str] = frozenset(
    {
        "help",
        "help_line",
        "registered",
        "renewed",
        "charge_prepaid",
        "charge_postpaid",
        "already_registered",
        "other_pack_active",
        "insufficient_balance",
        "renewal_failed",
        "renewal_gave_up",
        "cancelled",
        "cancel_adjusted",
        "not_registered",
        "status",
        "status_none",
        "auto_renew_on",
        "auto_renew_off",
        "not_a_subscriber",
        "account_closed",
        "system_error",
        # the policy engine's flows
        "trial_started",
        "pending_cancel",
        "cancel_refunded",
        "cancel_fee",
        "contact_sales",
        "reactivated",
        "cannot_reactivate",
        "retention_offer",
        "offer_pause",
        "offer_switch",
        "offer_cancel",
        "paused",
        "switched",
        "confirm_subscribe",
        "confirm_refund",
        "conversation_expired",
        "no_conversation",
        "declined",
        "list",
        "list_item",
        "list_item_free",
        "list_none",
        "state_trial",
        "state_active",
        "state_renewal_failed",
        "state_pending_cancel",
        "state_paused",
        "ended",
        "ended_fallback",
        "addon_needs_base",
    }
)

#: Every email a catalog must provide, in every language: the confirmations of each
#: event (seed 002: "keep this email for your records") and the answer to a command
#: that came by email.
EMAIL_KEYS: frozenset[str] = frozenset(
    {"registered", "renewed", "renewal_failed", "renewal_gave_up", "cancelled", "reply"}
)


#: Replies added after catalogs were first written: a catalog may word them itself, and
#: one that does not gets these (so a catalog written before them stays valid).
#: ``price_notice`` (seed 001, "chúng tôi sẽ luôn thông báo cho bạn trước"): {package},
#: {price} (the new list price), {current} (the price paid now), {period}, {at} (the
#: first renewal that charges the new price).
DEFAULT_TEMPLATES: dict[Language, dict[str, str]] = {
    "vi": {
        "price_notice": (
            "Thong bao: tu ky gia han {at}, cuoc goi {package} la {price}/{period} (hien"
            " nay {current}). Gia chi thay doi khi gia han. Neu khong muon tiep tuc, soan"
            " HUY {package} gui {shortcode} truoc {at}."
        ),
    },
    "vi-diacritics": {
        "price_notice": (
            "Thông báo: từ kỳ gia hạn {at}, cước gói {package} là {price}/{period} (hiện"
            " nay {current}). Giá chỉ thay đổi khi gia hạn. Nếu không muốn tiếp tục, soạn"
            " HUY {package} gửi {shortcode} trước {at}."
        ),
    },
    "en": {
        "price_notice": (
            "Notice: from the renewal of {at}, {package} costs {price}/{period} (now"
            " {current}). Prices change only at renewal. To stop it, text HUY {package} to"
            " {shortcode} before {at}."
        ),
    },
}
#: Emails added after catalogs were first written, as (subject, body), filled like
#: ``DEFAULT_TEMPLATES``.
DEFAULT_EMAILS: dict[Language, dict[str, tuple[str, str]]] = {
    "vi": {
        "price_notice": (
            "Thong bao thay doi gia goi {package}",
            "Kinh gui Quy khach {msisdn},\n\n{text}\n\n{operator} - dau so {shortcode}",
        ),
    },
    "vi-diacritics": {
        "price_notice": (
            "Thông báo thay đổi giá gói {package}",
            "Kính gửi Quý khách {msisdn},\n\n{text}\n\n{operator} - đầu số {shortcode}",
        ),
    },
    "en": {
        "price_notice": (
            "{package}: a new price from your next term",
            "Dear {msisdn},\n\n{text}\n\n{operator}, short code {shortcode}",
        ),
    },
}


V = TypeVar("V")


def require_keys(
    value: dict[Language, dict[str, V]],
    keys: frozenset[str],
    what: str,
    default_language: Language | None = None,
    defaults: Mapping[Language, Mapping[str, V]] | None = None,
) -> dict[Language, dict[str, V]]:
    """Each language given has exactly ``keys`` (a validator's body), and may give the
    keys of ``defaults`` (filled in from there when it does not).

    Without ``default_language`` every language must be given; with it, only that one
    (a subscriber who prefers a language the file lacks gets the default one).
    """
    if defaults:
        value = {lang: {**defaults.get(lang, {}), **given} for lang, given in value.items()}
        keys = keys | {k for per_lang in defaults.values() for k in per_lang}
    needed = LANGUAGES if default_language is None else (default_language,)
    for lang in needed:
        if lang not in value:
            raise ValueError(f"missing language {lang!r}")
    for lang in LANGUAGES:
        if lang not in value:
            continue
        missing = sorted(keys - value[lang].keys())
        if missing:
            raise ValueError(f"{lang}: missing {what}(s): {', '.join(missing)}")
        unknown = sorted(value[lang].keys() - keys)
        if unknown:
            raise ValueError(f"{lang}: unknown {what}(s): {', '.join(unknown)}")
    return value
