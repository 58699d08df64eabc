"""The accounts file's keys of MT billing and faults: defaults, and bad values named."""

from __future__ import annotations

import pytest

from gateway.adapters.smpp.accounts import parse_accounts
from gateway.errors import SettingError

APP = '[[accounts]]\nsystem_id = "app"\npassword = "p"\nrole = "application"\nshort_codes = ["9029"]\n'
HANDSETS = '[[accounts]]\nsystem_id = "h"\npassword = "p"\nrole = "handsets"\n'


def test_mt_price_and_the_drop_faults_default_to_off() -> None:
    account = parse_accounts(APP, source="f")["app"]
    assert (account.mt_price, account.drop_after, account.drop_rate) == (0, 0, 0.0)
    priced = parse_accounts(APP + "mt_price = 500\ndrop_after = 3\ndrop_rate = 0.25\n", source="f")
    assert (priced["app"].mt_price, priced["app"].drop_after, priced["app"].drop_rate) == (
        500,
        3,
        0.25,
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("mt_price = -1", "f: accounts.0.mt_price: Input should be greater than or equal to 0"),
        ("mt_price = 1.5", "f: accounts.0.mt_price: Input should be a valid integer"),
        ("drop_rate = 1.5", "f: accounts.0.drop_rate: Input should be less than or equal to 1"),
        ("drop_after = -2", "f: accounts.0.drop_after: Input should be greater than or equal to 0"),
    ],
)
def test_a_bad_value_names_the_field(extra: str, message: str) -> None:
    with pytest.raises(SettingError) as refused:
        parse_accounts(APP + extra + "\n", source="f")
    assert refused.value.reason.startswith(message), refused.value.reason


def test_mt_price_is_for_applications_only() -> None:
    with pytest.raises(SettingError, match="mt_price is for application accounts"):
        parse_accounts(HANDSETS + "mt_price = 100\n", source="f")
