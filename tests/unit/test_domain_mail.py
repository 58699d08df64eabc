"""Email as values: addresses, the message we send, and the mail we accept or refuse.

Outbound mail is a deterministic RFC 5322 message in UTF-8 that our own parser reads
back unchanged. Inbound mail is refused with ``550 5.6.0 <reason>`` when it has no
usable From, a broken MIME structure or a body that is not valid in its charset;
otherwise it yields the sender, subject, plain text (from the HTML when there is no
text part), Message-ID and the ids it replies to. Raw messages are written by hand.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gateway.domain.mail import (
    InboundMail,
    MailRejected,
    OutgoingMail,
    normalize_address,
    to_mime,
)
from gateway.domain.mail_inbound import (
    command_text,
    html_to_text,
    parse_inbound,
    reply_text,
)
from gateway.errors import GatewayError, InvalidEmail

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def crlf(*lines: bytes) -> bytes:
    """A raw message from its lines, joined the way SMTP carries them."""
    return b"\r\n".join(lines)


BASE = OutgoingMail(
    id="01J9ZX4Q7M",
    sender="noreply@888.vn",
    sender_name="Tổng đài 888",
    to=("an.nguyen@example.vn",),
    subject="Hủy tài khoản",
    body="Xin chào,\nBạn đã hủy gói ZL7 thành công.\n",
    at=datetime(2025, 3, 1, 9, 30, tzinfo=HCM),
    kind="cancelled",
)


def outgoing(**changes: Any) -> OutgoingMail:
    return replace(BASE, **changes)


def rejection(raw: bytes) -> str:
    """The SMTP reply ``parse_inbound`` refuses ``raw`` with."""
    with pytest.raises(MailRejected) as caught:
        parse_inbound(raw)
    assert (caught.value.code, caught.value.enhanced) == (550, "5.6.0")
    return caught.value.smtp_reply


# -- normalize_address ---------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "normalized"),
    [
        pytest.param("an.nguyen@example.vn", "an.nguyen@example.vn", id="bare"),
        pytest.param("An.Nguyen@Example.VN", "an.nguyen@example.vn", id="lower-cased"),
        pytest.param("  an@example.vn \t", "an@example.vn", id="surrounding-space"),
        pytest.param("Nguyễn Văn An <An@Example.vn>", "an@example.vn", id="name-and-angle"),
        pytest.param('"Nguyen, An" <an@example.vn>', "an@example.vn", id="quoted-name-comma"),
        pytest.param('"A <b>" <an@example.vn>', "an@example.vn", id="angle-in-quoted-name"),
        pytest.param("<an@example.vn>", "an@example.vn", id="angle-only"),
        pytest.param("an+zl7@mail.888.vn", "an+zl7@mail.888.vn", id="plus-subdomain"),
        pytest.param("support@my-shop.example.vn", "support@my-shop.example.vn", id="hyphen"),
        pytest.param("root@localhost", "root@localhost", id="single-label-domain"),
    ],
)
def test_normalize_address_returns_the_lower_cased_addr_spec(given: str, normalized: str) -> None:
    assert normalize_address(given) == normalized


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        pytest.param("", "empty address", id="empty"),
        pytest.param("Nguyen An <>", "empty address", id="empty-angle"),
        pytest.param("an.example.vn", "expected exactly one '@'", id="no-at"),
        pytest.param("an@@example.vn", "expected exactly one '@'", id="double-at"),
        pytest.param("an@b@example.vn", "expected exactly one '@'", id="two-ats"),
        pytest.param("@example.vn", "nothing before '@'", id="no-local-part"),
        pytest.param("an@", "no domain after '@'", id="no-domain"),
        pytest.param("an nguyen@example.vn", "local part contains ' '", id="space-in-local"),
        pytest.param("an\x00@example.vn", "local part contains '\\x00'", id="control-char"),
        pytest.param("an@ví.vn", "domain 'v\\xed.vn' is not", id="non-ascii-domain-escaped"),
        pytest.param('"an"@example.vn', "local part contains '\"'", id="quoted-local"),
        pytest.param("an@exam ple.vn", "is not dot-separated", id="space-in-domain"),
        pytest.param("an@example..vn", "is not dot-separated", id="empty-label"),
        pytest.param("an@-example.vn", "is not dot-separated", id="leading-hyphen"),
        pytest.param("an@example_shop.vn", "is not dot-separated", id="underscore"),
        pytest.param("an@example.vn.", "is not dot-separated", id="trailing-dot"),
        pytest.param("a" * 65 + "@example.vn", "longer than 64", id="local-part-65"),
        pytest.param("an@" + "b" * 249 + ".vn", "longer than 254", id="address-255"),
    ],
)
def test_normalize_address_refuses_implausible_addresses_with_the_reason(
    given: str, reason: str
) -> None:
    with pytest.raises(InvalidEmail) as caught:
        normalize_address(given)
    assert reason in caught.value.reason
    assert caught.value.value == given
    assert isinstance(caught.value, GatewayError)


def test_normalize_address_accepts_exactly_254_characters() -> None:
    address = "an@" + "b" * 249 + ".v"
    assert len(address) == 254
    assert normalize_address(address) == address


# -- to_mime -------------------------------------------------------------------


def test_to_mime_is_deterministic() -> None:
    """Two equal mails give the same bytes: nothing random, no clock."""
    assert to_mime(outgoing()) == to_mime(outgoing())


def test_to_mime_headers_carry_the_mail() -> None:
    mail = outgoing(in_reply_to="req-42@example.vn", references=("req-41@example.vn",))
    message = BytesParser(policy=policy.default).parsebytes(to_mime(mail))
    sender = message["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("Tổng đài 888", "noreply@888.vn")
    assert message["To"] == "an.nguyen@example.vn"
    assert message["Subject"] == "Hủy tài khoản"
    assert parsedate_to_datetime(message["Date"]) == mail.at
    assert message["Date"] == "Sat, 01 Mar 2025 09:30:00 +0700"
    assert message["Message-ID"] == "<01J9ZX4Q7M@888.vn>"
    assert message["In-Reply-To"] == "<req-42@example.vn>"
    assert message["References"] == "<req-41@example.vn>"
    assert message["MIME-Version"] == "1.0"
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message.get_content().replace("\r\n", "\n") == mail.body


def test_to_mime_is_7bit_with_crlf_line_ends_and_encoded_words() -> None:
    """Vietnamese never travels raw: RFC 2047 in headers, quoted-printable in the body."""
    raw = to_mime(outgoing())
    assert raw.isascii()
    assert raw.count(b"\n") == raw.count(b"\r\n")
    assert b"Subject: =?utf-8?" in raw
    assert b"Content-Transfer-Encoding: quoted-printable" in raw


def test_to_mime_leaves_out_threading_headers_when_not_a_reply() -> None:
    raw = to_mime(outgoing())
    assert b"In-Reply-To:" not in raw
    assert b"References:" not in raw


def test_to_mime_lists_every_recipient_and_every_reference() -> None:
    mail = outgoing(to=("an@example.vn", "binh@example.vn"), references=("a@x", "b@x"))
    message = BytesParser(policy=policy.default).parsebytes(to_mime(mail))
    assert [a.addr_spec for a in message["To"].addresses] == ["an@example.vn", "binh@example.vn"]
    assert message["References"] == "<a@x> <b@x>"


def test_parse_inbound_reads_back_what_to_mime_wrote() -> None:
    mail = outgoing(
        body="Xin chào,\n\nYêu cầu hủy tài khoản đã được ghi nhận. " + "Cảm ơn bạn! " * 20,
        in_reply_to="req-42@example.vn",
        references=("req-41@example.vn", "req-42@example.vn"),
    )
    inbound = parse_inbound(to_mime(mail))
    assert inbound == InboundMail(
        message_id="01J9ZX4Q7M@888.vn",
        sender="noreply@888.vn",
        subject="Hủy tài khoản",
        text=mail.body.strip(),
        html_only=False,
        replies_to=("req-42@example.vn", "req-41@example.vn"),
    )


# -- parse_inbound: accepted ---------------------------------------------------


def test_plain_mail_gives_sender_subject_text_and_ids() -> None:
    raw = crlf(
        b"From: Nguyen Van An <An.Nguyen@Example.VN>",
        b"To: 888@gateway.vn",
        b"Subject: =?utf-8?b?SOG7p3kgdMOgaSBraG/huqNu?=",
        b"Message-ID: <CAK1-abc@mail.example.vn>",
        b"In-Reply-To: <01J9ZX4Q7M@888.vn>",
        b"References: <01J9ZX4Q7L@888.vn>",
        b" <01J9ZX4Q7M@888.vn>",
        b"",
        b"HUY ZL7",
        b"",
    )
    assert parse_inbound(raw) == InboundMail(
        message_id="CAK1-abc@mail.example.vn",
        sender="an.nguyen@example.vn",
        subject="Hủy tài khoản",
        text="HUY ZL7",
        html_only=False,
        replies_to=("01J9ZX4Q7M@888.vn", "01J9ZX4Q7L@888.vn"),
    )


def test_quoted_printable_encoded_word_subject_is_decoded() -> None:
    raw = crlf(
        b"From: an@example.vn",
        b"Subject: Re: =?UTF-8?Q?H=E1=BB=A7y_t=C3=A0i_kho=E1=BA=A3n?=  ",
        b"",
        b"ok",
    )
    assert parse_inbound(raw).subject == "Re: Hủy tài khoản"


def test_raw_utf8_headers_are_read_as_utf8() -> None:
    """RFC 6532 mail puts UTF-8 straight into headers."""
    raw = crlf(
        b"From: =?utf-8?q?Nguy=E1=BB=85n?= <an@example.vn>",
        b"Subject: H\xe1\xbb\xa7y t\xc3\xa0i kho\xe1\xba\xa3n",
        b"",
        b"ok",
    )
    assert parse_inbound(raw).subject == "Hủy tài khoản"


def test_missing_subject_and_message_id_are_empty_and_none() -> None:
    inbound = parse_inbound(crlf(b"From: an@example.vn", b"", b"DK ZL1"))
    assert (inbound.subject, inbound.message_id, inbound.replies_to) == ("", None, ())


def test_header_only_mail_without_blank_line_is_accepted() -> None:
    """Ending after the header is not a missing separator: a subject-only command."""
    inbound = parse_inbound(crlf(b"From: an@example.vn", b"Subject: DK ZL1", b""))
    assert (inbound.subject, inbound.text) == ("DK ZL1", "")


def test_blank_message_id_is_none() -> None:
    raw = crlf(b"From: an@example.vn", b"Message-ID: ", b"", b"DK ZL1")
    assert parse_inbound(raw).message_id is None


def test_multipart_alternative_takes_the_base64_text_part() -> None:
    raw = crlf(
        b"From: an@example.vn",
        b"Subject: support",
        b"MIME-Version: 1.0",
        b'Content-Type: multipart/alternative; boundary="b1"',
        b"",
        b"This is a multi-part message in MIME format.",
        b"--b1",
        b"Content-Type: text/plain; charset=UTF-8",
        b"Content-Transfer-Encoding: base64",
        b"",
        b"SFVZIFpMNw0KQ+G6o20gxqFuIQ0K",
        b"--b1",
        b"Content-Type: text/html; charset=UTF-8",
        b"",
        b"<p>something else</p>",
        b"--b1--",
        b"",
    )
    inbound = parse_inbound(raw)
    assert inbound.text == "HUY ZL7\nCảm ơn!"
    assert inbound.html_only is False


def test_a_text_attachment_is_not_the_body() -> None:
    raw = crlf(
        b"From: an@example.vn",
        b'Content-Type: multipart/mixed; boundary="mix"',
        b"",
        b"--mix",
        b"Content-Type: text/plain; charset=us-ascii",
        b'Content-Disposition: attachment; filename="notes.txt"',
        b"Content-Transfer-Encoding: base64",
        b"",
        b"bm90ZXM6IG5vdGhpbmcgaGVyZQ0K",
        b"--mix",
        b"Content-Type: text/plain; charset=us-ascii",
        b"",
        b"KTTK_ZL",
        b"--mix--",
        b"",
    )
    assert parse_inbound(raw).text == "KTTK_ZL"


def test_quoted_printable_iso_8859_1_body_is_decoded() -> None:
    raw = crlf(
        b"From: an@example.vn",
        b"Content-Type: text/plain; charset=iso-8859-1",
        b"Content-Transfer-Encoding: quoted-printable",
        b"",
        b"Caf=E9 cr=E8me, s'il vous pla=EEt",
    )
    assert parse_inbound(raw).text == "Café crème, s'il vous plaît"


def test_windows_1258_body_is_decoded_and_composed() -> None:
    """Windows-1258 spells ``ủ`` as ``u`` + combining hook; the text comes out NFC."""
    raw = crlf(
        b"From: an@example.vn",
        b"Content-Type: text/plain; charset=windows-1258",
        b"Content-Transfer-Encoding: 8bit",
        b"",
        b"Hu\xd2y t\xe0i khoa\xd2n",
    )
    assert parse_inbound(raw).text == "Hủy tài khoản"


def test_utf16_body_is_decoded() -> None:
    raw = crlf(
        b"From: an@example.vn",
        b"Content-Type: text/plain; charset=utf-16",
        b"Content-Transfer-Encoding: base64",
        b"",
        b"//5EAEsAIABaAEwAMQANAAoA",
    )
    assert parse_inbound(raw).text == "DK ZL1"


def test_utf8_body_without_charset_is_accepted() -> None:
    """No charset means us-ascii, but 8-bit mail without one is nearly always UTF-8."""
    raw = crlf(b"From: an@example.vn", b"", b"H\xe1\xbb\xa6Y ZL7")
    assert parse_inbound(raw).text == "HỦY ZL7"


def test_base64_without_padding_is_tolerated() -> None:
    raw = crlf(
        b"From: an@example.vn",
        b"Content-Type: text/plain; charset=utf-8",
        b"Content-Transfer-Encoding: base64",
        b"",
        b"SOG7p3kgdMOgaSBraG/huqNu",
        b"",
    )
    assert parse_inbound(raw).text == "Hủy tài khoản"


def test_html_only_mail_is_converted_to_text() -> None:
    raw = crlf(
        b"From: an@example.vn",
        b"Content-Type: text/html; charset=utf-8",
        b"Content-Transfer-Encoding: quoted-printable",
        b"",
        b"<html><head><title>t</title><style>p{color:red}</style></head><body>",
        b"<p>H=E1=BB=A6Y&nbsp;ZL7</p><script>alert(1)</script><div>C&#7843;m =C6=A1n &amp; ch=",
        b"=C3=A0o</div></body></html>",
    )
    inbound = parse_inbound(raw)
    assert inbound.text == "HỦY ZL7\n\nCảm ơn & chào"
    assert inbound.html_only is True


def test_text_of_an_attached_mail_is_not_the_body() -> None:
    """A forwarded mail (``message/rfc822``) is content, not what the sender wrote."""
    raw = crlf(
        b"From: an@example.vn",
        b'Content-Type: multipart/mixed; boundary="outer"',
        b"",
        b"--outer",
        b"Content-Type: text/html; charset=utf-8",
        b"",
        b"<p>DK ZL1</p>",
        b"--outer",
        b"Content-Type: message/rfc822",
        b"",
        b"From: other@example.vn",
        b"Content-Type: text/plain",
        b"",
        b"HUY ZL7",
        b"--outer--",
        b"",
    )
    inbound = parse_inbound(raw)
    assert (inbound.text, inbound.html_only) == ("DK ZL1", True)


def test_mail_without_any_text_part_has_empty_text() -> None:
    raw = crlf(
        b"From: an@example.vn",
        b"Subject: DK ZL1",
        b"Content-Type: application/pdf",
        b"Content-Transfer-Encoding: base64",
        b"",
        b"JVBERi0xLjQK",
    )
    inbound = parse_inbound(raw)
    assert (inbound.subject, inbound.text, inbound.html_only) == ("DK ZL1", "", False)


def test_repeated_reply_ids_are_listed_once_in_order() -> None:
    raw = crlf(
        b"From: an@example.vn",
        b"In-Reply-To: <c@888.vn>",
        b"References: <a@888.vn> <b@888.vn> <c@888.vn>",
        b"",
        b"ok",
    )
    assert parse_inbound(raw).replies_to == ("c@888.vn", "a@888.vn", "b@888.vn")


# -- parse_inbound: refused ----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reply"),
    [
        pytest.param(
            crlf(b"To: 888@gateway.vn", b"Subject: DK ZL1", b"", b"DK ZL1"),
            "550 5.6.0 missing From header",
            id="no-from",
        ),
        pytest.param(
            crlf(b"From:   ", b"", b"DK ZL1"), "550 5.6.0 missing From header", id="blank-from"
        ),
        pytest.param(
            crlf(b"From: an@example.vn", b"From: binh@example.vn", b"", b"DK ZL1"),
            "550 5.6.0 invalid From header: more than one",
            id="two-from-headers",
        ),
        pytest.param(
            crlf(b"From: an@example.vn, binh@example.vn", b"", b"DK ZL1"),
            "550 5.6.0 invalid From header 'an@example.vn, binh@example.vn': expected one address",
            id="two-addresses",
        ),
        pytest.param(
            crlf(b"From: Nguyen Van An", b"", b"DK ZL1"),
            "550 5.6.0 invalid From header '\"Nguyen Van An\"': no domain after '@'",
            id="name-without-address",
        ),
        pytest.param(
            crlf(b"From: an@exam_ple.vn", b"", b"DK ZL1"),
            "550 5.6.0 invalid From header 'an@exam_ple.vn': domain 'exam_ple.vn' is not "
            "dot-separated letters, digits and hyphens",
            id="bad-domain",
        ),
    ],
)
def test_mail_without_a_usable_from_is_refused(raw: bytes, reply: str) -> None:
    assert rejection(raw) == reply


@pytest.mark.parametrize(
    "from_header",
    [
        pytest.param(b"Nguy\xe1\xbb\x85n V\xc4\x83n An", id="utf8-name-only"),
        pytest.param(b"an@v\xc3\xad-d\xe1\xbb\xa5.vn", id="utf8-domain"),
        pytest.param(b"=?utf-8?q?an=0D=0Abad?=@example.vn", id="encoded-line-break"),
    ],
)
def test_refusal_of_a_bad_from_is_a_valid_smtp_line(from_header: bytes) -> None:
    """The reply quotes the header, escaped: SMTP replies are ASCII on one line."""
    reply = rejection(crlf(b"From: " + from_header, b"", b"DK ZL1"))
    assert reply.startswith("550 5.6.0 invalid From header")
    assert reply.isascii()
    assert reply.isprintable()


@pytest.mark.parametrize(
    ("raw", "reply"),
    [
        pytest.param(
            crlf(
                b"From: an@example.vn",
                b"Content-Type: multipart/mixed",
                b"",
                b"--x",
                b"Content-Type: text/plain",
                b"",
                b"DK ZL1",
                b"--x--",
            ),
            "550 5.6.0 malformed MIME: multipart without a boundary parameter",
            id="no-boundary",
        ),
        pytest.param(
            crlf(
                b"From: an@example.vn",
                b'Content-Type: multipart/mixed; boundary="expected"',
                b"",
                b"--other",
                b"Content-Type: text/plain",
                b"",
                b"DK ZL1",
                b"--other--",
            ),
            "550 5.6.0 malformed MIME: multipart start boundary not found",
            id="start-boundary-not-found",
        ),
        pytest.param(
            crlf(
                b"From: an@example.vn",
                b'Content-Type: multipart/mixed; boundary="b1"',
                b"",
                b"--b1",
                b"Content-Type: text/plain",
                b"",
                b"DK ZL1",
                b"",
            ),
            "550 5.6.0 malformed MIME: multipart closing boundary missing",
            id="close-boundary-missing",
        ),
        pytest.param(
            crlf(
                b"From: an@example.vn",
                b'Content-Type: multipart/mixed; boundary="outer"',
                b"",
                b"--outer",
                b'Content-Type: multipart/alternative; boundary="inner"',
                b"",
                b"--inner",
                b"Content-Type: text/plain",
                b"",
                b"DK ZL1",
                b"--outer--",
            ),
            "550 5.6.0 malformed MIME: multipart closing boundary missing",
            id="nested-close-boundary-missing",
        ),
        pytest.param(
            crlf(b"From: an@example.vn", b"Subject: DK ZL1", b"DK ZL1 please", b"", b"thanks"),
            "550 5.6.0 malformed MIME: no blank line between header and body",
            id="missing-header-body-separator",
        ),
        pytest.param(
            crlf(
                b"From: an@example.vn",
                b"Content-Type: text/plain; charset=utf-8",
                b"Content-Transfer-Encoding: base64",
                b"",
                b"SOG7p3kgdMOgaSBraG/huqNuX",
            ),
            "550 5.6.0 malformed MIME: base64 body cannot be decoded",
            id="base64-truncated",
        ),
    ],
)
def test_malformed_mime_is_refused(raw: bytes, reply: str) -> None:
    assert rejection(raw) == reply


@pytest.mark.parametrize(
    ("raw", "reply"),
    [
        pytest.param(
            crlf(
                b"From: an@example.vn",
                b"Content-Type: text/plain; charset=utf-8",
                b"",
                b"H\xe1\xbb y ZL7 \xc3",
            ),
            "550 5.6.0 body is not valid utf-8",
            id="invalid-declared-utf8",
        ),
        pytest.param(
            crlf(b"From: an@example.vn", b"", b"HUY ZL7 \xff\xfe"),
            "550 5.6.0 body is not valid us-ascii (nor UTF-8)",
            id="undeclared-invalid-bytes",
        ),
        pytest.param(
            crlf(
                b"From: an@example.vn",
                b"Content-Type: text/plain; charset=us-ascii",
                b"",
                b"Hu\xd2y",
            ),
            "550 5.6.0 body is not valid us-ascii (nor UTF-8)",
            id="declared-ascii-invalid-bytes",
        ),
        pytest.param(
            crlf(
                b"From: an@example.vn",
                b"Content-Type: text/plain; charset=shift_jis",
                b"",
                b"\x82\xa0\x82",
            ),
            "550 5.6.0 body is not valid shift_jis",
            id="invalid-declared-shift-jis",
        ),
        pytest.param(
            crlf(
                b"From: an@example.vn",
                b"Content-Type: text/plain; charset=x-klingon",
                b"",
                b"DK ZL1",
            ),
            "550 5.6.0 unknown charset 'x-klingon'",
            id="unknown-charset",
        ),
        pytest.param(
            crlf(
                b"From: an@example.vn",
                b"Content-Type: text/plain; charset=rot13",
                b"",
                b"QX MY1",
            ),
            "550 5.6.0 unknown charset 'rot13'",
            id="codec-that-is-not-a-charset",
        ),
        pytest.param(
            crlf(
                b"From: an@example.vn",
                b"Content-Type: text/html; charset=utf-8",
                b"",
                b"<p>\xff</p>",
            ),
            "550 5.6.0 body is not valid utf-8",
            id="invalid-html-body",
        ),
    ],
)
def test_body_not_valid_in_its_charset_is_refused(raw: bytes, reply: str) -> None:
    assert rejection(raw) == reply


# -- html_to_text --------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "text"),
    [
        pytest.param("DK ZL1", "DK ZL1", id="no-tags"),
        pytest.param("HUY<br>ZL7<br/>ok", "HUY\nZL7\nok", id="br"),
        pytest.param("<p>one</p><p>two</p>", "one\n\ntwo", id="paragraphs"),
        pytest.param("<div>a</div>\n\n\n<div>b</div>", "a\nb", id="divs-are-lines"),
        pytest.param("<div><div><p>a</p></div></div><div>b</div>", "a\n\nb", id="nested-blocks"),
        pytest.param("<p>a</p><br><br><br><br><p>b</p>", "a\n\nb", id="blank-runs-collapsed"),
        pytest.param("<b>DK</b> <i>ZL1</i>", "DK ZL1", id="inline-tags-keep-spaces"),
        pytest.param("<ul><li>ZL1</li><li>ZL7</li></ul>", "ZL1\nZL7", id="list-items"),
        pytest.param(
            "<table><tr><td>Gói</td><td>ZL7</td></tr><tr><td>Giá</td><td>7.000đ</td></tr></table>",
            "Gói ZL7\nGiá 7.000đ",
            id="table-rows",
        ),
        pytest.param("a<script>var x = '<p>';</script>b", "ab", id="script-dropped"),
        pytest.param("<style>p { x: 1 }</style>body", "body", id="style-dropped"),
        pytest.param("<head><title>Tiêu đề</title></head>nội dung", "nội dung", id="head-dropped"),
        pytest.param("&lt;ZL7&gt; &amp; H&#7910;Y &eacute;", "<ZL7> & HỦY é", id="entities"),
        pytest.param("DK&nbsp;&nbsp;ZL1", "DK ZL1", id="nbsp-is-a-space"),
        pytest.param("DK\n   ZL1\t x", "DK ZL1 x", id="source-whitespace-collapsed"),
        pytest.param("<pre>a\n  b</pre>", "a\nb", id="pre-keeps-lines"),
        pytest.param("<h1>Title</h1>text", "Title\n\ntext", id="heading-is-a-paragraph"),
        pytest.param("", "", id="empty"),
        pytest.param("<p>unclosed <b>bold", "unclosed bold", id="unclosed-tags"),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


# -- command_text --------------------------------------------------------------


def inbound(subject: str = "", text: str = "") -> InboundMail:
    return InboundMail(
        message_id=None, sender="an@example.vn", subject=subject, text=text, html_only=False
    )


@pytest.mark.parametrize(
    ("subject", "text", "command"),
    [
        pytest.param("DK ZL1", "please", "DK ZL1", id="subject-wins"),
        pytest.param("Re: HUY ZL7", "", "HUY ZL7", id="re-prefix"),
        pytest.param("RE: re: Fwd: TR: HUY ZL7", "", "HUY ZL7", id="prefix-chain"),
        pytest.param("Re[2]: KTTK_ZL", "", "KTTK_ZL", id="counted-re"),
        pytest.param("Fw: DK ZL30", "", "DK ZL30", id="fw"),
        pytest.param("Request ZL7", "", "Request ZL7", id="re-inside-a-word-kept"),
        pytest.param("", "\n\n  DK ZL7  \nthanks", "DK ZL7", id="first-body-line"),
        pytest.param("Re:", "HUY ZL1", "HUY ZL1", id="prefix-only-subject"),
        pytest.param("   ", "> DK ZL1\nHUY ZL1\n> quoted", "HUY ZL1", id="body-quotes-skipped"),
        pytest.param("", "", None, id="nothing"),
        pytest.param("Re: ", "  \n\n", None, id="blank-everything"),
        pytest.param("", "On Mon, An wrote:\n> DK ZL1", None, id="only-a-quote"),
    ],
)
def test_command_text(subject: str, text: str, command: str | None) -> None:
    assert command_text(inbound(subject, text)) == command


# -- reply_text ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        pytest.param("HUY ZL7", "HUY ZL7", id="plain"),
        pytest.param(
            "Đồng ý hủy.\n\nOn Sat, 1 Mar 2025 at 09:30, Tổng đài 888 <noreply@888.vn> wrote:\n"
            "> Xác nhận hủy?\n",
            "Đồng ý hủy.",
            id="on-wrote",
        ),
        pytest.param(
            "Đồng ý.\nVào Th 7, 1 thg 3, 2025 lúc 09:30 Tổng đài 888 <noreply@888.vn> đã viết:\n"
            "> Xác nhận hủy?",
            "Đồng ý.",
            id="vao-da-viet",
        ),
        pytest.param(
            "Yes.\nOn Sat, 1 Mar 2025 at 09:30, Tong dai 888 <\nnoreply@888.vn> wrote:\n> q",
            "Yes.",
            id="quote-header-wrapped",
        ),
        pytest.param(
            "Ok\r\n\r\n-----Original Message-----\r\nFrom: noreply@888.vn\r\nHủy?",
            "Ok",
            id="original-message",
        ),
        pytest.param("Ok\n" + "_" * 32 + "\nFrom: x", "Ok", id="outlook-rule"),
        pytest.param("Cảm ơn\n-- \nNguyễn Văn An\n0912345678", "Cảm ơn", id="signature"),
        pytest.param(
            "> question one\nanswer one\n> question two\nanswer two",
            "answer one\nanswer two",
            id="inline-replies-kept",
        ),
        pytest.param("  >> deep quote\n  \n", "", id="only-quotes"),
        pytest.param("I wrote:\nmore", "I wrote:\nmore", id="wrote-without-on-kept"),
    ],
)
def test_reply_text(text: str, reply: str) -> None:
    assert reply_text(text) == reply


def test_outgoing_dates_survive_any_zone() -> None:
    """The Date header keeps the instant, whichever zone the mail was recorded in."""
    at = datetime(2025, 3, 1, 2, 30, tzinfo=UTC)
    message = BytesParser(policy=policy.default).parsebytes(to_mime(outgoing(at=at)))
    assert parsedate_to_datetime(message["Date"]) == at
