"""Canonical MSISDNs: every accepted form of a Vietnamese mobile number becomes 84xxxxxxxxx.

Accepted: a national number ``0`` + 9 digits, or the country code ``84``/``+84`` + 9
digits, where the first of the 9 is not 0; spaces are ignored. Anything else raises
``InvalidMsisdn`` carrying the value as given.
"""

from __future__ import annotations

import pytest

from gateway.domain.msisdn import canonical_msisdn
from gateway.errors import GatewayError, InvalidMsisdn


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        pytest.param("0912345678", "84912345678", id="national"),
        pytest.param("84912345678", "84912345678", id="international"),
        pytest.param("+84912345678", "84912345678", id="plus-international"),
        pytest.param(" 0912345678 ", "84912345678", id="surrounding-spaces"),
        pytest.param("+84 912 345 678", "84912345678", id="grouped-with-spaces"),
        pytest.param("0812345678", "84812345678", id="08x-prefix"),
        pytest.param("0321234567", "84321234567", id="03x-prefix"),
        pytest.param("0841234567", "84841234567", id="national-number-starting-84"),
    ],
)
def test_accepted_forms_become_84_plus_nine_digits(given: str, canonical: str) -> None:
    assert canonical_msisdn(given) == canonical


@pytest.mark.parametrize(
    "given",
    [
        pytest.param("", id="empty"),
        pytest.param("912345678", id="no-prefix"),
        pytest.param("091234567", id="too-short"),
        pytest.param("09123456789", id="too-long"),
        pytest.param("849123456789", id="international-too-long"),
        pytest.param("8491234567", id="international-too-short"),
        pytest.param("0012345678", id="zero-after-prefix"),
        pytest.param("840912345678", id="country-code-and-trunk-zero"),
        pytest.param("+0912345678", id="plus-national"),
        pytest.param("0084912345678", id="00-international-prefix"),
        pytest.param("091234567a", id="letter"),
        pytest.param("+84-912-345-678", id="dashes"),
        pytest.param("٠٩١٢٣٤٥٦٧٨", id="arabic-indic-digits"),
        pytest.param("０９１２３４５６７８", id="fullwidth-digits"),
    ],
)
def test_anything_else_raises_invalid_msisdn_naming_the_value(given: str) -> None:
    with pytest.raises(InvalidMsisdn) as caught:
        canonical_msisdn(given)

    assert caught.value.value == given
    assert repr(given) in str(caught.value)
    assert isinstance(caught.value, GatewayError)
