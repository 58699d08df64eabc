"""SMPP short message texts and the accounts file, without a network."""

from __future__ import annotations

import pytest

from gateway.adapters.smpp.accounts import DEMO_ACCOUNTS, parse_accounts
from gateway.adapters.smpp.text import (
    TextError,
    decode_text,
    encode_parts,
    gsm_decode,
    gsm_encode,
    split_udh,
)
from gateway.errors import SettingError


def test_gsm_escapes_take_two_septets_and_decode_back() -> None:
    """'€' is ESC 0x65 and '{' ESC 0x28; '@' is septet 0x00 and 'à' 0x7F."""
    assert gsm_encode("@a€{à") == bytes((0x00, 0x61, 0x1B, 0x65, 0x1B, 0x28, 0x7F))
    assert gsm_decode(bytes((0x00, 0x61, 0x1B, 0x65, 0x1B, 0x28, 0x7F))) == "@a€{à"


def test_each_data_coding_decodes_and_an_octet_above_0x7f_is_not_gsm() -> None:
    assert decode_text("é".encode("latin-1"), 3) == "é"
    assert decode_text("Việt".encode("utf-16-be"), 8) == "Việt"
    with pytest.raises(TextError):
        decode_text(b"\xe9", 0)
    with pytest.raises(TextError):
        decode_text(b"x", 4)


def test_161_gsm_characters_are_two_parts_of_153_and_8() -> None:
    """160 fit one message; one more makes 153 + 8 septets, each after a 6-octet UDH."""
    assert len(encode_parts("a" * 160, ref=7).parts) == 1
    encoded = encode_parts("a" * 161, ref=7)
    assert [len(p) for p in encoded.parts] == [6 + 153, 6 + 8]
    concat, payload = split_udh(encoded.parts[1])
    assert concat is not None
    assert (concat.ref, concat.total, concat.seq) == (7, 2, 2)
    assert payload == b"a" * 8


def test_71_ucs2_characters_are_two_parts_of_67_and_4() -> None:
    encoded = encode_parts("ệ" * 71, ref=1)
    assert encoded.data_coding == 8
    assert [len(p) for p in encoded.parts] == [6 + 67 * 2, 6 + 4 * 2]


def test_the_demo_accounts_parse_and_bad_files_name_the_problem() -> None:
    accounts = parse_accounts(DEMO_ACCOUNTS, source="demo")
    assert accounts["app9029"].short_codes == ("9029",)
    assert accounts["handsets"].role == "handsets"
    with pytest.raises(SettingError, match="needs short_codes"):
        parse_accounts(
            '[[accounts]]\nsystem_id = "a"\npassword = "p"\nrole = "application"\n', source="f"
        )
    twice = '[[accounts]]\nsystem_id = "a"\npassword = "p"\nrole = "handsets"\n' * 2
    with pytest.raises(SettingError, match="appears twice"):
        parse_accounts(twice, source="f")
