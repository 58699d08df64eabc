"""The SMTP relay sender against a real SMTP server: what reaches the relay, and how each failure is classified.

Every mail gets exactly one outcome, in order, and nothing is raised: ``ok`` when the
relay took it, ``permanent`` only when the relay refused that mail with a 5xx reply,
transient (to retry) for everything else, including a relay that is down or refuses
the gateway's credentials.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from zoneinfo import ZoneInfo

import pytest

from gateway.adapters.smtp_relay import (
    RelayConfig,
    SinkSender,
    SmtpRelay,
    parse_relay_url,
)
from gateway.domain.mail import DeliveryOutcome, OutgoingMail
from gateway.service.ports import MailSender
from tests.smtp_server import CapturingSmtpServer

AT = datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
SENDER = "888@gateway.test"


def outgoing(mail_id: str, *to: str, sender: str = SENDER) -> OutgoingMail:
    return OutgoingMail(
        id=mail_id,
        sender=sender,
        sender_name="Tổng đài 888",
        to=to or (f"{mail_id}@example.com",),
        subject=f"Gói ZL7 — {mail_id}",
        body="Cảm ơn quý khách.\n.a line that starts with a dot\nHết.\n",
        at=AT,
        kind="registered",
    )


def mime(mail: OutgoingMail) -> bytes:
    """RFC 5322 bytes as the gateway sends them: CRLF, an 8-bit UTF-8 body."""
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = f"{mail.sender_name} <{mail.sender}>"
    message["To"] = ", ".join(mail.to)
    message["Subject"] = mail.subject
    message["Message-ID"] = f"<{mail.message_id}>"
    message.set_content(mail.body, cte="8bit")
    return message.as_bytes()


def batch_of(*mails: OutgoingMail) -> list[tuple[OutgoingMail, bytes]]:
    return [(mail, mime(mail)) for mail in mails]


def relay_to(server: CapturingSmtpServer, *, timeout: float = 5.0) -> SmtpRelay:
    return SmtpRelay(
        config=RelayConfig(host="127.0.0.1", port=server.port),
        timeout=timeout,
        local_hostname="gateway.test",
    )


def relay_at(url: str, *, timeout: float = 5.0) -> SmtpRelay:
    return SmtpRelay(config=parse_relay_url(url), timeout=timeout, local_hostname="gateway.test")


def ok(mail_id: str, note: str | None = None) -> DeliveryOutcome:
    return DeliveryOutcome(mail_id=mail_id, ok=True, permanent=False, error=note)


@pytest.fixture
async def server() -> AsyncIterator[CapturingSmtpServer]:
    async with CapturingSmtpServer() as running:
        yield running


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port where the kernel completes the TCP handshake but nobody ever says 220."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


# --- delivery -----------------------------------------------------------------------


async def test_a_batch_reaches_the_relay_byte_for_byte_with_its_envelope(
    server: CapturingSmtpServer,
) -> None:
    """One connection, one transaction per mail: the envelope is the mail's sender and
    recipients, and the DATA is exactly the bytes given (dot-stuffing undone, 8-bit kept)."""
    first = outgoing("m1", "a@example.com", "b@example.com")
    second = outgoing("m2")
    batch = batch_of(first, second)

    outcomes = await relay_to(server).deliver(batch)

    assert outcomes == [ok("m1"), ok("m2")]
    captured = await server.wait_for(2)
    assert [(c.sender, c.recipients) for c in captured] == [
        (SENDER, ("a@example.com", "b@example.com")),
        (SENDER, ("m2@example.com",)),
    ]
    assert [c.raw for c in captured] == [raw for _, raw in batch]
    assert captured[0].message["Message-ID"] == f"<{first.message_id}>"
    assert captured[0].message["Subject"] == "Gói ZL7 — m1"
    assert ".a line that starts with a dot" in captured[0].message.get_content()
    assert "BODY=8BITMIME" in captured[0].options


async def test_an_empty_batch_needs_no_relay(silent_port: int) -> None:
    """Nothing to send, nothing to connect to: even an unreachable relay is fine."""
    relay = relay_at(f"smtp://127.0.0.1:{silent_port}", timeout=0.2)

    assert await relay.deliver([]) == []


async def test_the_sink_takes_every_mail_at_once() -> None:
    """Without a relay the gateway's own store is the mailbox: every mail is ok."""
    sink: MailSender = SinkSender()

    outcomes = await sink.deliver(batch_of(outgoing("m1"), outgoing("m2")))

    assert outcomes == [ok("m1"), ok("m2")]


async def test_a_non_ascii_address_goes_out_with_smtputf8(server: CapturingSmtpServer) -> None:
    """An internationalised address is sent with SMTPUTF8 when the relay offers it."""
    outcomes = await relay_to(server).deliver(batch_of(outgoing("m1", "khách@ví-dụ.vn")))

    assert outcomes == [ok("m1")]
    (captured,) = await server.wait_for(1)
    assert captured.recipients == ("khách@ví-dụ.vn",)
    assert "SMTPUTF8" in captured.options


async def test_a_non_ascii_address_fails_for_good_on_a_relay_without_smtputf8() -> None:
    """A relay that cannot carry the address will never carry it; the rest of the batch goes."""
    async with CapturingSmtpServer(smtputf8=False) as plain:
        outcomes = await relay_to(plain).deliver(
            batch_of(outgoing("m1", "khách@ví-dụ.vn"), outgoing("m2"))
        )

        assert outcomes[0].permanent
        assert "SMTPUTF8" in (outcomes[0].error or "")
        assert outcomes[1] == ok("m2")
        assert [c.recipients for c in await plain.wait_for(1)] == [("m2@example.com",)]


async def test_an_address_that_cannot_go_on_the_wire_fails_for_good(
    server: CapturingSmtpServer,
) -> None:
    """An address with a space (which could smuggle SMTP parameters) is refused before sending."""
    outcomes = await relay_to(server).deliver(
        batch_of(outgoing("m1", "a b@example.com"), outgoing("m2"))
    )

    assert outcomes[0].permanent
    assert "a b@example.com" in (outcomes[0].error or "")
    assert outcomes[1] == ok("m2")


# --- refusals about one mail -----------------------------------------------------------


async def test_a_550_for_the_only_recipient_fails_that_mail_for_good(
    server: CapturingSmtpServer,
) -> None:
    """The relay's 5xx is final for that mail; the mails around it in the batch still go."""
    server.refuse("nobody@example.com", reply="550 5.1.1 no such user")
    batch = batch_of(outgoing("m1"), outgoing("m2", "nobody@example.com"), outgoing("m3"))

    outcomes = await relay_to(server).deliver(batch)

    assert outcomes[0] == ok("m1")
    assert outcomes[1] == DeliveryOutcome(
        mail_id="m2",
        ok=False,
        permanent=True,
        error="relay refused every recipient: nobody@example.com: 550 5.1.1 no such user",
    )
    assert outcomes[2] == ok("m3")
    assert [c.recipients for c in await server.wait_for(2)] == [
        ("m1@example.com",),
        ("m3@example.com",),
    ]


async def test_a_451_for_the_recipient_is_retried_later(server: CapturingSmtpServer) -> None:
    """A 4xx reply is temporary: the mail stays queued, not failed."""
    server.refuse("busy@example.com", reply="451 4.3.0 try later")

    (outcome,) = await relay_to(server).deliver(batch_of(outgoing("m1", "busy@example.com")))

    assert not outcome.ok
    assert not outcome.permanent
    assert "451 4.3.0 try later" in (outcome.error or "")


async def test_recipients_refused_with_4xx_and_5xx_are_retried(server: CapturingSmtpServer) -> None:
    """When every recipient is refused but one only for now, the mail may still go later."""
    server.refuse("nobody@example.com", reply="550 5.1.1 no such user")
    server.refuse("busy@example.com", reply="451 4.3.0 try later")

    (outcome,) = await relay_to(server).deliver(
        batch_of(outgoing("m1", "nobody@example.com", "busy@example.com"))
    )

    assert not outcome.ok
    assert not outcome.permanent


async def test_a_mail_taken_for_some_recipients_is_sent_with_the_others_noted(
    server: CapturingSmtpServer,
) -> None:
    """Partial refusal is a success: retrying would send the mail twice to those who got it."""
    server.refuse("nobody@example.com", reply="550 5.1.1 no such user")

    outcomes = await relay_to(server).deliver(
        batch_of(outgoing("m1", "a@example.com", "nobody@example.com"))
    )

    assert outcomes == [
        ok(
            "m1",
            note="relay refused some recipients: nobody@example.com: 550 5.1.1 no such user",
        )
    ]
    (captured,) = await server.wait_for(1)
    assert captured.recipients == ("a@example.com",)


@pytest.mark.parametrize(
    ("reply", "permanent"),
    [
        pytest.param("554 5.6.0 message rejected", True, id="5xx-final"),
        pytest.param("452 4.3.1 insufficient storage", False, id="4xx-retried"),
    ],
)
async def test_a_refused_data_is_classified_by_its_reply(
    server: CapturingSmtpServer, reply: str, permanent: bool
) -> None:
    """The reply to the message content decides, like the reply to a recipient."""
    server.data_reply = reply

    (outcome,) = await relay_to(server).deliver(batch_of(outgoing("m1")))

    assert outcome == DeliveryOutcome(
        mail_id="m1", ok=False, permanent=permanent, error=f"relay refused the mail: {reply}"
    )


# --- the relay itself ------------------------------------------------------------------


async def test_a_relay_that_is_down_leaves_every_mail_queued_until_it_is_back(
    server: CapturingSmtpServer,
) -> None:
    """Connection refused: transient for the whole batch, nothing raised; once the relay
    listens again on the same port the same batch goes through."""
    relay = relay_to(server)
    batch = batch_of(outgoing("m1"), outgoing("m2"))
    await server.stop()

    down = await relay.deliver(batch)

    assert [(o.mail_id, o.ok, o.permanent) for o in down] == [
        ("m1", False, False),
        ("m2", False, False),
    ]
    assert all("unavailable" in (o.error or "") for o in down)

    await server.start()
    back = await relay.deliver(batch)

    assert back == [ok("m1"), ok("m2")]
    assert len(await server.wait_for(2)) == 2


async def test_a_relay_that_never_greets_times_out_and_every_mail_is_retried(
    silent_port: int,
) -> None:
    """A relay that accepts the connection and then says nothing costs one timeout."""
    relay = relay_at(f"smtp://127.0.0.1:{silent_port}", timeout=0.3)

    outcomes = await relay.deliver(batch_of(outgoing("m1"), outgoing("m2")))

    assert [(o.ok, o.permanent) for o in outcomes] == [(False, False), (False, False)]
    assert "Timed out" in (outcomes[0].error or "")


async def test_a_dropped_connection_keeps_what_was_taken_and_retries_the_rest(
    server: CapturingSmtpServer,
) -> None:
    """The relay drops the connection after the first mail: that one stays sent, the rest
    are transient (no reconnect within the batch), and go through on the next attempt."""
    server.disconnect_after = 1
    relay = relay_to(server)
    batch = batch_of(outgoing("m1"), outgoing("m2"), outgoing("m3"))

    outcomes = await relay.deliver(batch)

    assert outcomes[0] == ok("m1")
    assert [(o.mail_id, o.ok, o.permanent) for o in outcomes[1:]] == [
        ("m2", False, False),
        ("m3", False, False),
    ]
    assert "lost" in (outcomes[1].error or "")

    server.disconnect_after = None
    assert await relay.deliver(batch[1:]) == [ok("m2"), ok("m3")]
    assert [c.recipients[0] for c in await server.wait_for(3)] == [
        "m1@example.com",
        "m2@example.com",
        "m3@example.com",
    ]


async def test_a_relay_that_stops_answering_mid_message_times_out_transiently(
    server: CapturingSmtpServer,
) -> None:
    """No reply to DATA within the timeout: that mail and the rest are retried, not failed."""
    server.stall_data = True

    outcomes = await relay_to(server, timeout=0.3).deliver(batch_of(outgoing("m1"), outgoing("m2")))

    assert [(o.ok, o.permanent) for o in outcomes] == [(False, False), (False, False)]
    assert "Timed out" in (outcomes[0].error or "")


async def test_a_relay_going_down_mid_message_ends_the_batch_at_once(
    server: CapturingSmtpServer,
) -> None:
    """The relay stops while a mail is in flight: the dropped connection ends the batch
    now (not at the timeout), and every mail not yet accepted is retried."""
    server.stall_data = True
    relay = relay_to(server, timeout=30.0)
    delivery = asyncio.create_task(relay.deliver(batch_of(outgoing("m1"), outgoing("m2"))))
    async with asyncio.timeout(5):
        await server.stalled.wait()

    async with asyncio.timeout(2):
        await server.stop()
        outcomes = await delivery

    assert [(o.mail_id, o.ok, o.permanent) for o in outcomes] == [
        ("m1", False, False),
        ("m2", False, False),
    ]


async def test_implicit_tls_against_a_plain_relay_is_transient(
    server: CapturingSmtpServer,
) -> None:
    """A TLS handshake that fails is a relay problem: every mail stays queued."""
    relay = relay_at(f"smtps://127.0.0.1:{server.port}", timeout=2.0)

    outcomes = await relay.deliver(batch_of(outgoing("m1")))

    assert [(o.ok, o.permanent) for o in outcomes] == [(False, False)]
    assert server.messages == []


async def test_required_starttls_that_the_relay_does_not_offer_is_transient(
    server: CapturingSmtpServer,
) -> None:
    """``?starttls=true`` never falls back to plain text: no STARTTLS, no mail sent."""
    relay = relay_at(f"smtp://127.0.0.1:{server.port}?starttls=true")

    outcomes = await relay.deliver(batch_of(outgoing("m1")))

    assert [(o.ok, o.permanent) for o in outcomes] == [(False, False)]
    assert "STARTTLS" in (outcomes[0].error or "")
    assert server.messages == []


# --- authentication ----------------------------------------------------------------------


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
async def test_the_relay_takes_mail_after_auth_with_the_credentials_from_the_url(
    mechanism: str,
) -> None:
    """User and password are percent-decoded from the URL and accepted by either mechanism."""
    credentials = ("gw@example.com", "p@ss:wörd/1")
    async with CapturingSmtpServer(credentials=credentials, mechanisms=[mechanism]) as secured:
        relay = relay_at(f"smtp://gw%40example.com:p%40ss%3Aw%C3%B6rd%2F1@127.0.0.1:{secured.port}")

        outcomes = await relay.deliver(batch_of(outgoing("m1")))

        assert outcomes == [ok("m1")]
        (captured,) = await secured.wait_for(1)
        assert captured.login == "gw@example.com"


async def test_refused_credentials_keep_every_mail_queued() -> None:
    """535 is a configuration problem, not the mail's: transient for the whole batch, so
    no mail is lost while someone fixes the relay URL."""
    async with CapturingSmtpServer(credentials=("gw", "right")) as secured:
        relay = relay_at(f"smtp://gw:wrong@127.0.0.1:{secured.port}")

        outcomes = await relay.deliver(batch_of(outgoing("m1"), outgoing("m2")))

        assert [(o.ok, o.permanent) for o in outcomes] == [(False, False), (False, False)]
        assert "refused the credentials" in (outcomes[0].error or "")
        assert "535" in (outcomes[0].error or "")
        assert "wrong" not in (outcomes[0].error or "")
        assert secured.messages == []


async def test_a_relay_that_wants_auth_from_a_gateway_without_credentials_is_retried() -> None:
    """530 is a 5xx, but it is about the relay URL, not the mail: transient, with a hint."""
    async with CapturingSmtpServer(credentials=("gw", "right")) as secured:
        relay = relay_at(f"smtp://127.0.0.1:{secured.port}")

        (outcome,) = await relay.deliver(batch_of(outgoing("m1")))

        assert not outcome.ok
        assert not outcome.permanent
        assert "530" in (outcome.error or "")
        assert "user:password" in (outcome.error or "")


async def test_credentials_for_a_relay_that_offers_no_auth_are_retried(
    server: CapturingSmtpServer,
) -> None:
    """AUTH not offered on this connection (a relay that allows it only over TLS): transient."""
    relay = relay_at(f"smtp://gw:secret@127.0.0.1:{server.port}")

    outcomes = await relay.deliver(batch_of(outgoing("m1")))

    assert [(o.ok, o.permanent) for o in outcomes] == [(False, False)]
    assert "AUTH" in (outcomes[0].error or "")
    assert server.messages == []


# --- relay URL ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            "smtp://relay.example.com",
            RelayConfig(host="relay.example.com", port=25),
            id="smtp-default-port-plain",
        ),
        pytest.param(
            "smtp://relay.example.com:2525",
            RelayConfig(host="relay.example.com", port=2525),
            id="smtp-explicit-port",
        ),
        pytest.param(
            "smtp://relay.example.com:587?starttls=true",
            RelayConfig(host="relay.example.com", port=587, tls="starttls"),
            id="starttls-required",
        ),
        pytest.param(
            "smtp://relay.example.com?starttls=FALSE",
            RelayConfig(host="relay.example.com", port=25),
            id="starttls-false-is-plain",
        ),
        pytest.param(
            "smtps://relay.example.com",
            RelayConfig(host="relay.example.com", port=465, tls="implicit"),
            id="smtps-default-port",
        ),
        pytest.param(
            "SMTPS://Relay.Example.COM:10465/",
            RelayConfig(host="relay.example.com", port=10465, tls="implicit"),
            id="case-and-trailing-slash",
        ),
        pytest.param(
            "smtp://gw%40example.com:p%40ss%3Aw%C3%B6rd@relay.example.com",
            RelayConfig(
                host="relay.example.com",
                port=25,
                username="gw@example.com",
                password="p@ss:wörd",  # noqa: S106 - a test value
            ),
            id="percent-decoded-credentials",
        ),
        pytest.param(
            "smtp://[::1]:2525",
            RelayConfig(host="::1", port=2525),
            id="ipv6",
        ),
    ],
)
def test_a_relay_url_gives_its_config(url: str, expected: RelayConfig) -> None:
    assert parse_relay_url(url) == expected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        pytest.param("relay.example.com:25", "no scheme", id="no-scheme"),
        pytest.param("http://relay.example.com", "unsupported scheme 'http'", id="http"),
        pytest.param("lmtp://relay.example.com", "unsupported scheme 'lmtp'", id="lmtp"),
        pytest.param("smtp://", "no host", id="no-host"),
        pytest.param("smtp://relay.example.com:smtp", "port", id="port-not-a-number"),
        pytest.param("smtp://relay.example.com:70000", "port", id="port-too-big"),
        pytest.param("smtp://relay.example.com:0", "port", id="port-zero"),
        pytest.param("smtp://relay.example.com/queue", "unexpected path", id="path"),
        pytest.param("smtp://relay.example.com#x", "fragment", id="fragment"),
        pytest.param("smtp://gw@relay.example.com", "without a password", id="no-password"),
        pytest.param("smtp://:secret@relay.example.com", "user name", id="no-user"),
        pytest.param("smtp://relay.example.com?tls=true", "unknown parameter", id="unknown-param"),
        pytest.param("smtp://relay.example.com?starttls=yes", "true or false", id="not-boolean"),
        pytest.param(
            "smtp://relay.example.com?starttls=true&starttls=false", "more than once", id="twice"
        ),
        pytest.param("smtps://relay.example.com?starttls=true", "smtps://", id="smtps-starttls"),
        pytest.param("smtp://gw:p%FFss@relay.example.com", "UTF-8", id="bad-percent-encoding"),
    ],
)
def test_a_bad_relay_url_is_refused_with_its_reason(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match="invalid relay URL") as raised:
        parse_relay_url(url)

    assert reason in str(raised.value)


def test_the_password_never_shows_in_errors_logs_or_repr() -> None:
    """A URL with a secret is masked in its error; the config's repr and describe() omit it."""
    with pytest.raises(ValueError, match="invalid relay URL") as raised:
        parse_relay_url("smtp://gw:hunter2@relay.example.com/x")
    assert "hunter2" not in str(raised.value)
    assert "gw:***@relay.example.com" in str(raised.value)

    with pytest.raises(ValueError, match="invalid relay URL") as raised:
        parse_relay_url("smtp://gw:s3cr/xy@z9@relay.example.com")  # unescaped / and @
    assert "s3cr" not in str(raised.value)
    assert "xy@z9" not in str(raised.value)
    assert "percent-encode" in str(raised.value)

    config = parse_relay_url("smtp://gw:hunter2@relay.example.com:587?starttls=true")
    relay = SmtpRelay(config=config)
    assert "hunter2" not in repr(config)
    assert relay.describe() == "smtp://gw@relay.example.com:587?starttls=true"


def test_a_relay_with_an_impossible_setting_is_refused_at_construction() -> None:
    """Settings problems show at start-up, not at the first batch."""
    config = RelayConfig(host="relay.example.com", port=25)
    with pytest.raises(ValueError, match="timeout"):
        SmtpRelay(config=config, timeout=0)
    with pytest.raises(ValueError, match="local_hostname"):
        SmtpRelay(config=config, local_hostname="two words")
