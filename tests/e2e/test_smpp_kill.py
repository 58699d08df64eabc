"""The gateway killed with -9 while an application (smpp34) is bound and MOs and paid MTs
are flowing: after the restart no MO is lost, a redelivered one is the same stored
message, and no MT is charged twice or sent uncharged."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import smpp34

from tests.support import GatewayProcess, Mosquitto, mqtt_client

SUBSCRIBER = "84912345678"
SENDERS = ("84911111111", "84922222222")
MOS_EACH = 40
PRICE, BALANCE = 100, 1_000_000
PASSWORD = "s3cret"  # noqa: S105 - the account of this test


class App:
    """app9029 bound as transceiver: the MO texts it received, the MTs it had accepted."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.accepted: dict[str, str] = {}  # message id -> text
        self.next_mt = 0

    async def bind(self, gateway: GatewayProcess) -> smpp34.Smsc:
        return await smpp34.Client(
            "127.0.0.1", gateway.smpp_port, "app9029", PASSWORD, bind_type="TRX"
        ).connect()

    async def receive(self, session: smpp34.Smsc) -> None:
        """Until the session ends (smpp34 answers each deliver_sm with deliver_sm_resp)."""
        while True:
            event = await session.next()
            if not isinstance(event, smpp34.DeliverSmEvent):
                return
            self.received.append(event.short_message.decode())

    async def submit(self, session: smpp34.Smsc, count: int) -> None:
        """Up to ``count`` paid MTs, one after another, until the session fails."""
        for _ in range(count):
            text = f"mt {self.next_mt}"
            self.next_mt += 1
            try:
                response = await session.submit_sm(SUBSCRIBER, text.encode(), source_addr="9029")
            except smpp34.SmppError:
                return
            assert response.command_status == 0
            assert response.message_id is not None
            self.accepted[response.message_id] = text


async def _until(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    """Wait, at most ``seconds``, until ``condition()`` holds."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    assert condition(), what


async def test_kill_9_while_mos_and_paid_mts_flow_loses_no_mo_and_charges_no_mt_twice(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """Two senders each send 40 MOs to 9029 on MQTT with the client ids 0..39 (the same ids
    for both: an id is unique per sender); app9029 (mt_price 100) answers with MTs. Once it
    has 10 MOs and 10 accepted MTs the gateway is killed with -9, the senders go on (the
    broker keeps what the gateway has not acknowledged), the gateway starts again and the
    application binds again and sends 5 more MTs.

    Then: each of the 80 MOs reached the application, at most twice, and is one stored row
    (a second delivery is the same message); every accepted MT was published on MQTT, under
    its id only, and charged exactly once; every charge has its MT in the outbox and every
    MT from 9029 its charge and its SMSC record (query_sm, receipt); the balance is 1,000,000 less 100 a charge, and the ledger sums
    to it."""
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        f'[[accounts]]\nsystem_id = "app9029"\npassword = "{PASSWORD}"\nrole = "application"\n'
        f'short_codes = ["9029"]\nmt_price = {PRICE}\n'
    )
    gateway = gateway_factory(SCGW_SMPP_ACCOUNTS=str(accounts)).start()
    with gateway.http() as http:
        body = {"kind": "prepaid", "balance": BALANCE}
        assert http.put(f"/api/subscribers/{SUBSCRIBER}", json=body).status_code == 201
    app = App()
    published: dict[str, set[str]] = {}  # MT text -> the ids it was published with

    async def send_mos() -> None:
        async with mqtt_client(mosquitto.port) as mqtt:
            for n in range(MOS_EACH):
                for sender in SENDERS:
                    payload = {"id": str(n), "from": sender, "text": f"mo {sender} {n}"}
                    await mqtt.publish("sms/mo/9029", json.dumps(payload), qos=1)
                    await asyncio.sleep(0.01)

    async with (
        mqtt_client(mosquitto.port, f"sms/mt/{SUBSCRIBER}") as mts,
        asyncio.TaskGroup() as tg,
    ):

        async def watch_mts() -> None:
            async for message in mts.messages:
                assert isinstance(message.payload, bytes)
                mt = json.loads(message.payload)
                published.setdefault(mt["text"], set()).add(mt["id"])

        watcher = tg.create_task(watch_mts())
        session = await app.bind(gateway)
        receiving = tg.create_task(app.receive(session))
        senders = tg.create_task(send_mos())
        submitting = tg.create_task(app.submit(session, 10_000))
        await _until(lambda: len(app.received) >= 10 and len(app.accepted) >= 10, "traffic flowed")
        await asyncio.to_thread(gateway.kill)
        await submitting  # ends at the first failure
        await receiving
        await senders
        await asyncio.to_thread(gateway.start)
        session = await app.bind(gateway)
        receiving = tg.create_task(app.receive(session))
        await app.submit(session, 5)
        wanted = {f"mo {sender} {n}" for sender in SENDERS for n in range(MOS_EACH)}
        await _until(lambda: wanted <= set(app.received), "every MO reached the application")
        await _until(
            lambda: set(app.accepted.values()) <= set(published), "every accepted MT on MQTT"
        )
        await session.unbind()
        await receiving
        watcher.cancel()

    with gateway.http() as http:
        balance = http.get(f"/api/subscribers/{SUBSCRIBER}").json()["balance"]
        ledger = http.get(f"/api/subscribers/{SUBSCRIBER}/ledger").json()["entries"]
    gateway.stop()

    times = Counter(app.received)
    assert set(times) == wanted
    assert max(times.values()) <= 2, "delivered at most once more after the crash"
    with sqlite3.connect(tmp_path / "scgw.db") as db:
        rows = db.execute(
            "SELECT text, COUNT(*) FROM smpp_queue WHERE kind = 'mo' GROUP BY text"
        ).fetchall()
        charged = Counter(
            id for (id,) in db.execute("SELECT message_id FROM charges WHERE reason = 'mt'")
        )
        outbox = {id for (id,) in db.execute("SELECT id FROM outbox WHERE shortcode = '9029'")}
        records = {id for (id,) in db.execute("SELECT id FROM smpp_messages")}
    assert dict(rows) == dict.fromkeys(wanted, 1), "one stored MO each, delivered or redelivered"

    assert all(len(ids) == 1 for ids in published.values()), "an MT keeps its id"
    for message_id, text in app.accepted.items():
        assert published[text] == {message_id}
        assert charged[message_id] == 1, f"{text} charged once"
    assert set(charged) == outbox, "no MT without its charge, no charge without its MT"
    assert records == outbox, "every MT sent has its query_sm record, and only those"
    assert max(charged.values()) == 1
    assert len(app.accepted) >= 15
    assert balance == BALANCE - PRICE * len(charged)
    assert sum(e["delta"] for e in ledger) == balance
