"""The email channel of the running program: real SMTP sessions in, results read back over HTTP.

Commands by email, a support ticket from open to closed, a confirmation email per
event, delivery through a real relay (down, then up; across a restart).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import re
import time
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import httpx

from tests.smtp_server import CapturingSmtpServer
from tests.support import GatewayProcess, Mosquitto, mqtt_client, next_json

MSISDN = "84912345678"
ADDRESS = "an@example.com"


def _mail(subject: str, body: str, *, to: str, message_id: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"An Nguyen <{ADDRESS}>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{message_id}>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


async def _send(gateway: GatewayProcess, message: EmailMessage) -> None:
    await aiosmtplib.send(message, hostname="127.0.0.1", port=gateway.smtp_port, timeout=30)


async def _mailbox(http: httpx.AsyncClient, query: str | None = None) -> list[dict[str, Any]]:
    if query is None:
        response = await http.get("/api/v1/messages")
    else:
        response = await http.get("/api/v1/search", params={"query": query})
    response.raise_for_status()
    return list(response.json()["messages"])


async def _wait_mail(
    http: httpx.AsyncClient, count: int, query: str = f"to:{ADDRESS}", wait: float = 10
) -> list[dict[str, Any]]:
    """The mails matching ``query`` once there are ``count`` of them (newest first)."""
    deadline = time.monotonic() + wait
    while True:
        found = await _mailbox(http, query)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


def _provision(gateway: GatewayProcess, **body: Any) -> None:
    with gateway.http() as http:
        response = http.put(f"/api/subscribers/{MSISDN}", json={"email": ADDRESS, **body})
        assert response.status_code == 201, response.text


async def test_a_command_by_email_is_answered_by_sms_and_by_email(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto
) -> None:
    """Mail from a subscriber's address to 888@sms.local with subject "DK ZL7" is the SMS
    command: charged once, the reply goes out on MQTT and as a mail in the thread, and
    the registration is confirmed by its own email. A resend (same Message-ID) changes
    nothing."""
    gateway = gateway_factory().start()
    _provision(gateway)
    async with (
        mqtt_client(mosquitto.port, f"sms/mt/{MSISDN}") as client,
        httpx.AsyncClient(base_url=gateway.url, timeout=30) as http,
    ):
        command = _mail("DK ZL7", "", to="888@sms.local", message_id="dk-1@example.com")
        await _send(gateway, command)
        _, mt = await next_json(client)
        await _send(gateway, command)  # the client resends: processed once
        mails = await _wait_mail(http, 2)
        subscriber = (await http.get(f"/api/subscribers/{MSISDN}")).json()
        charges = (await http.get(f"/api/subscribers/{MSISDN}/charges")).json()["charges"]
        reply = next(m for m in mails if m["Kind"] == "reply")
        raw = (await http.get(f"/api/v1/message/{reply['ID']}/raw")).text
        detail = (await http.get(f"/api/v1/message/{reply['ID']}")).json()
    # seed 004: ZL7 is 5,000 đ for 7 days, from the default balance of 50,000 đ
    assert "ZL7" in mt["text"]
    assert "5.000d" in mt["text"]
    assert subscriber["balance"] == 45_000
    assert [c["amount"] for c in charges] == [5_000]
    assert sorted(m["Kind"] for m in mails) == ["registered", "reply"]
    assert reply["Subject"] == "Re: DK ZL7"
    assert reply["From"]["Address"] == "888@sms.local"
    assert [a["Address"] for a in reply["To"]] == [ADDRESS]
    assert mt["text"] in detail["Text"]
    parsed = email.message_from_string(raw, policy=email.policy.default)
    assert parsed["In-Reply-To"] == "<dk-1@example.com>"
    assert "17/03/2026" in detail["Text"]  # registered 10/03 10:00 + 7 x 24 h


async def test_account_cancellation_ticket_from_open_to_closed(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto
) -> None:
    """Seed 003, case 2: mail to support@ asking to cancel the account opens a ticket and
    sends a one-time code by SMS to the account's phone; replying to the ticket email
    with the code closes the account (packs cancelled, data kept as ``closed``) and the
    ticket. Every status change mails the requester."""
    gateway = gateway_factory().start()
    _provision(gateway)
    async with (
        mqtt_client(mosquitto.port, f"sms/mt/{MSISDN}") as client,
        httpx.AsyncClient(base_url=gateway.url, timeout=30) as http,
    ):
        await http.post("/api/sms", json={"from": MSISDN, "text": "DK ZL7"})
        await next_json(client)
        request = _mail(
            "Hủy tài khoản",
            "Chào đội hỗ trợ,\nTôi muốn hủy tài khoản của mình.\n",
            to="support@sms.local",
            message_id="close-1@example.com",
        )
        await _send(gateway, request)
        _, code_sms = await next_json(client)
        code = re.search(r"\b[0-9]{6}\b", code_sms["text"])
        assert code is not None, code_sms
        ticket = (await http.get("/api/tickets")).json()["tickets"][0]
        assert ticket["status"] == "verifying"
        verifying = next(
            m
            for m in await _wait_mail(http, 3, 'to:an@example.com subject:"Xac minh"')
            if m["TicketID"] == ticket["id"]
        )
        reply = _mail(
            f"Re: {verifying['Subject']}",
            f"Mã của tôi: {code.group(0)}\n\n> Chúng tôi đã gửi mã xác nhận...",
            to="support@sms.local",
            message_id="close-2@example.com",
            In_Reply_To=f"<{verifying['MessageID']}>",
        )
        await _send(gateway, reply)
        _, closed_sms = await next_json(client)
        ticket = (await http.get(f"/api/tickets/{ticket['id']}")).json()
        subscriber = (await http.get(f"/api/subscribers/{MSISDN}")).json()
        ticket_mails = sorted(ticket["mails"], key=lambda m: m["Created"])
        after = (await http.post("/api/sms", json={"from": MSISDN, "text": "DK ZL1"})).json()
    assert code_sms["from"] == "888"
    assert ticket["status"] == "closed"
    assert ticket["kind"] == "account_closure"
    assert ticket["msisdn"] == MSISDN
    assert "ZL7" in ticket["resolution"]
    assert [e["status"] for e in ticket["events"]][-1] == "closed"
    assert subscriber["status"] == "closed"
    assert subscriber["subscriptions"][0]["status"] == "cancelled"
    assert subscriber["balance"] == 45_000  # prepaid: the week already paid stays paid
    assert "ZL7" in closed_sms["text"]
    subjects = [m["Subject"] for m in ticket_mails]
    assert len(subjects) == 3
    assert subjects[0] == f"[#{ticket['id']}] Da tiep nhan yeu cau: Hủy tài khoản"
    assert subjects[1] == f"[#{ticket['id']}] Xac minh tai khoan: Hủy tài khoản"
    assert subjects[2] == f"[#{ticket['id']}] Tai khoan da duoc huy: Hủy tài khoản"
    assert after["replies"][0]["text"] == (
        "Tai khoan 84912345678 da dong, khong su dung duoc dich vu 888."
        " Lien he support de duoc ho tro."
    )


async def test_each_event_sends_a_confirmation_email(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto
) -> None:
    """Registration, renewal, failed renewal, cancellation and account closure each send
    one email to a subscriber that has an address (seed 002: a confirmation to keep)."""
    gateway = gateway_factory().start()
    _provision(gateway, language="en", balance=12_000)
    async with (
        mqtt_client(mosquitto.port, f"sms/mt/{MSISDN}") as client,
        httpx.AsyncClient(base_url=gateway.url, timeout=60) as http,
    ):
        # 10/03 10:00: DK ZL7, 5,000 -> balance 7,000
        await http.post("/api/sms", json={"from": MSISDN, "text": "DK ZL7"})
        # 17/03 10:00: renewed, 5,000 -> 2,000; 24/03 10:00: 2,000 < 5,000 -> failed
        await http.post("/api/clock/advance", json={"to": "2026-03-24T12:00:00+07:00"})
        await http.post(f"/api/subscribers/{MSISDN}/topup", json={"amount": 10_000})
        # the top-up renews at once (12,000 - 5,000 = 7,000); then HUY cancels
        await http.post("/api/sms", json={"from": MSISDN, "text": "HUY ZL7"})
        for _ in range(5):
            await next_json(client)
        opened = await http.post(
            "/api/tickets",
            json={
                "msisdn": MSISDN,
                "product": "Other",
                "category": "Technical support",
                "title": "Close my account",
                "content": "Please close my account.",
            },
        )
        assert opened.status_code == 201, opened.text
        _, code_sms = await next_json(client)
        code = re.search(r"\b[0-9]{6}\b", code_sms["text"])
        assert code is not None
        verified = await http.post(
            f"/api/tickets/{opened.json()['id']}/verify", json={"code": code.group(0)}
        )
        mails = await _wait_mail(http, 8)
        subscriber = (await http.get(f"/api/subscribers/{MSISDN}")).json()
    assert verified.status_code == 200, verified.text
    assert verified.json()["outcome"] == "closed"
    assert subscriber["balance"] == 7_000
    kinds = [m["Kind"] for m in reversed(mails)]  # oldest first
    # the last three are the ticket's: opened, verifying, account closed
    assert kinds == [
        "registered",
        "renewed",
        "renewal_failed",
        "renewed",
        "cancelled",
        "ticket",
        "ticket",
        "ticket",
    ]
    subjects = [m["Subject"] for m in reversed(mails)]
    assert subjects[0] == "ZL7 registration confirmed"
    assert subjects[1] == "ZL7 renewal confirmed"
    assert subjects[2] == "ZL7 could not be renewed"
    assert subjects[4] == "ZL7 cancellation confirmed"
    assert subjects[-1].endswith("Account closed: Close my account")
    cancelled = (await _detail(gateway, mails[3]["ID"]))["Text"]
    assert "Please keep this email for your records." in cancelled


async def _detail(gateway: GatewayProcess, mail_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
        return dict((await http.get(f"/api/v1/message/{mail_id}")).json())


async def test_mail_goes_through_the_relay_and_waits_while_it_is_down(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto
) -> None:
    """With SCGW_SMTP_RELAY_URL set, mail is delivered by a real SMTP client to the relay.
    While the relay is down the mail stays queued (attempts and the error recorded) and
    is retried with backoff; across a gateway restart it is not lost; once the relay is
    back every mail arrives, exactly as recorded."""
    async with CapturingSmtpServer() as relay:
        await relay.stop()  # down from the start
        gateway = gateway_factory(
            SCGW_SMTP_RELAY_URL=f"smtp://127.0.0.1:{relay.port}",
            SCGW_MAIL_RETRY_BASE="0.2",
            SCGW_MAIL_RETRY_MAX="1",
        ).start()
        _provision(gateway)
        async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
            await http.post("/api/sms", json={"from": MSISDN, "text": "DK ZL7"})
            deadline = time.monotonic() + 10
            while True:
                (queued,) = await _mailbox(http)
                if queued["Attempts"] >= 2 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
        assert queued["Status"] == "queued"
        assert queued["Attempts"] >= 2
        assert queued["LastError"]
        gateway.stop()  # restart with the mail still queued
        await relay.start()
        gateway.start()
        (delivered,) = await relay.wait_for(1, timeout=15)
        async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
            (sent,) = await _mailbox(http)
            raw = (await http.get(f"/api/v1/message/{sent['ID']}/raw")).content
    assert sent["Status"] == "sent"
    assert delivered.sender == "888@sms.local"
    assert delivered.recipients == (ADDRESS,)
    assert delivered.message["Subject"] == "Xac nhan dang ky goi ZL7"
    assert delivered.message["Message-ID"] == f"<{sent['MessageID']}>"
    assert delivered.raw.rstrip(b"\r\n") == raw.rstrip(b"\r\n")


async def test_a_relay_refusal_fails_the_mail_for_good(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto
) -> None:
    """A 5xx from the relay for the only recipient marks the mail ``failed`` (kept, with
    the reason), while mail to other addresses is delivered."""
    async with CapturingSmtpServer() as relay:
        relay.refuse(ADDRESS, reply="550 5.1.1 no such user")
        gateway = gateway_factory(SCGW_SMTP_RELAY_URL=f"smtp://127.0.0.1:{relay.port}").start()
        _provision(gateway)
        with gateway.http() as sync_http:
            sync_http.put("/api/subscribers/0987654321", json={"email": "binh@example.com"})
        async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
            await http.post("/api/sms", json={"from": MSISDN, "text": "DK ZL7"})
            await http.post("/api/sms", json={"from": "0987654321", "text": "DK ZL7"})
            (delivered,) = await relay.wait_for(1, timeout=10)
            deadline = time.monotonic() + 10
            while True:
                mails = {m["To"][0]["Address"]: m for m in await _mailbox(http)}
                settled = all(m["Status"] != "queued" for m in mails.values())
                if settled or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
    assert delivered.recipients == ("binh@example.com",)
    assert mails[ADDRESS]["Status"] == "failed"
    assert "550" in mails[ADDRESS]["LastError"]
    assert mails["binh@example.com"]["Status"] == "sent"


async def test_mailbox_api_search_read_and_delete(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto
) -> None:
    """The Mailpit-compatible subset: list (newest first), search by to:/subject:,
    ``latest``, reading marks read, DELETE with IDs and without."""
    gateway = gateway_factory().start()
    _provision(gateway)
    with gateway.http() as sync_http:
        sync_http.put("/api/subscribers/0987654321", json={"email": "binh@example.com"})
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
        await http.post("/api/sms", json={"from": MSISDN, "text": "DK ZL7"})
        await http.post("/api/sms", json={"from": "0987654321", "text": "DK ZL1"})
        listing = (await http.get("/api/v1/messages")).json()
        to_binh = (await http.get("/api/v1/search", params={"query": "to:binh@example.com"})).json()
        by_subject = (
            await http.get("/api/v1/search", params={"query": 'subject:"goi ZL7"'})
        ).json()
        latest = (await http.get("/api/v1/message/latest")).json()
        after_read = (await http.get("/api/v1/messages")).json()
        deleted = await http.request(
            "DELETE", "/api/v1/messages", content=json.dumps({"IDs": [latest["ID"]]})
        )
        one_left = (await http.get("/api/v1/messages")).json()
        await http.delete("/api/v1/messages")
        none_left = (await http.get("/api/v1/messages")).json()
        missing = await http.get(f"/api/v1/message/{latest['ID']}")
    assert listing["total"] == 2
    assert listing["unread"] == 2
    assert [m["Subject"] for m in listing["messages"]] == [
        "Xac nhan dang ky goi ZL1",
        "Xac nhan dang ky goi ZL7",
    ]
    assert [m["To"][0]["Address"] for m in to_binh["messages"]] == ["binh@example.com"]
    assert [m["Subject"] for m in by_subject["messages"]] == ["Xac nhan dang ky goi ZL7"]
    assert latest["Subject"] == "Xac nhan dang ky goi ZL1"
    assert after_read["unread"] == 1
    assert deleted.status_code == 200
    assert one_left["total"] == 1
    assert none_left["total"] == 0
    assert none_left["messages"] == []
    assert missing.status_code == 404
