"""SMS encoding per GSM 03.38: alphabet, length in units, and segments (hand-counted).

GSM7: a basic character is 1 septet, an extension character (``€ ^ { } [ ] ~ | \\``
and form feed) is 2 (escape + septet); 160 septets fit one SMS, 153 per part of a
concatenated one. UCS2: 1 UTF-16 unit per BMP character, 2 for anything above
(emoji); 70 units fit one SMS, 67 per part. One character outside the GSM alphabet
(a Vietnamese diacritic) makes the whole text UCS2. A character is never split
across two parts.
"""

from __future__ import annotations

import pytest

from gateway.domain.encoding import SmsLayout, layout


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", SmsLayout("GSM7", 0, 1), id="empty"),
        pytest.param("DK ZL1", SmsLayout("GSM7", 6, 1), id="ascii"),
        pytest.param("a" * 160, SmsLayout("GSM7", 160, 1), id="160-one-segment"),
        pytest.param("a" * 161, SmsLayout("GSM7", 161, 2), id="161-two-segments"),
        pytest.param("a" * 306, SmsLayout("GSM7", 306, 2), id="306-two-segments"),
        pytest.param("a" * 307, SmsLayout("GSM7", 307, 3), id="307-three-segments"),
        pytest.param("€", SmsLayout("GSM7", 2, 1), id="euro-counts-two"),
        pytest.param("^{}\\[~]|€\f", SmsLayout("GSM7", 20, 1), id="every-extension-char"),
        pytest.param("€" * 80, SmsLayout("GSM7", 160, 1), id="80-euros-one-segment"),
        pytest.param("€" * 81, SmsLayout("GSM7", 162, 2), id="81-euros-two-segments"),
        pytest.param("a" * 159 + "€", SmsLayout("GSM7", 161, 2), id="159-plus-euro"),
        pytest.param("a" * 158 + "€", SmsLayout("GSM7", 160, 1), id="158-plus-euro"),
        pytest.param(
            "a" * 152 + "€" + "a" * 152,
            SmsLayout("GSM7", 306, 3),
            id="euro-not-split-across-parts",
        ),
        pytest.param(
            "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\n\r",
            SmsLayout("GSM7", 44, 1),
            id="non-ascii-gsm-basic",
        ),
    ],
)
def test_gsm7(text: str, expected: SmsLayout) -> None:
    assert layout(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("ý" * 70, SmsLayout("UCS2", 70, 1), id="70-one-segment"),
        pytest.param("ý" * 71, SmsLayout("UCS2", 71, 2), id="71-two-segments"),
        pytest.param("ý" * 134, SmsLayout("UCS2", 134, 2), id="134-two-segments"),
        pytest.param("ý" * 135, SmsLayout("UCS2", 135, 3), id="135-three-segments"),
        pytest.param("ạ", SmsLayout("UCS2", 1, 1), id="one-diacritic"),
        pytest.param("a" * 100 + "ạ", SmsLayout("UCS2", 101, 2), id="one-diacritic-forces-ucs2"),
        pytest.param("Hủy", SmsLayout("UCS2", 3, 1), id="huy"),
        pytest.param("á", SmsLayout("UCS2", 1, 1), id="a-acute-is-not-gsm"),
        pytest.param("`", SmsLayout("UCS2", 1, 1), id="backtick-is-not-gsm"),
        pytest.param("a\u0301", SmsLayout("UCS2", 2, 1), id="combining-mark"),
        pytest.param("€ý", SmsLayout("UCS2", 2, 1), id="euro-is-one-unit-in-ucs2"),
        pytest.param("😀", SmsLayout("UCS2", 2, 1), id="emoji-two-units"),
        pytest.param("😀" * 35, SmsLayout("UCS2", 70, 1), id="35-emoji-one-segment"),
        pytest.param("😀" * 36, SmsLayout("UCS2", 72, 2), id="36-emoji-two-segments"),
        pytest.param("a😀", SmsLayout("UCS2", 3, 1), id="emoji-forces-ucs2"),
        pytest.param(
            "ý" * 66 + "😀" + "ý" * 66,
            SmsLayout("UCS2", 134, 3),
            id="emoji-not-split-across-parts",
        ),
    ],
)
def test_ucs2(text: str, expected: SmsLayout) -> None:
    assert layout(text) == expected


def test_the_same_words_with_and_without_diacritics() -> None:
    """The "vi" and "vi-diacritics" replies differ exactly here: 160 vs 70 per SMS."""
    plain, marked = "Dang ky thanh cong goi ZL1", "Đăng ký thành công gói ZL1"

    assert layout(plain) == SmsLayout("GSM7", 26, 1)
    assert layout(marked) == SmsLayout("UCS2", 26, 1)
