"""Three gateways on one PostgreSQL database and one mosquitto (docs/scale-out.md).

MOs come through the MQTT v5 shared subscription ``$share/scgw/sms/mo/#``, so each is
processed by one of the three; one instance is killed with SIGKILL in the middle and
started again under the same id. Then 100,000 renewals fall due at one instant and the
three run them together, each once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.postgres_support import fresh_database
from tests.support import GatewayProcess, Mosquitto

SUBSCRIBERS = 2_000
PER_SUBSCRIBER = 10  # 20,000 MOs
RENEWALS = 100_000
#: what each subscriber sends, in this order (not waiting for the replies)
TEXTS = [
    "DK ZL1", "KTTK_ZL", "DK ZL7", "HUY ZL1", "KTTK_ZL",
    "DK ZL30", "HUY ZL7", "KTTK_ZL", "DK ZL1", "KTTK_ZL",
]  # fmt: skip
START = "2026-03-10T10:00:00+07:00"
#: the template's ZL7 is due 7 x 24 h after START: 2026-03-17 10:00 +07:00 (03:00 UTC)
DUE_MICROS = 1_773_716_400 * 1_000_000
WEEK_MICROS = 7 * 86_400 * 1_000_000
#: subscribers whose balance is not the sum of their ledger
UNBALANCED = (
    "SELECT count(*) FROM subscribers s WHERE s.balance <>"
    " (SELECT coalesce(sum(delta), 0) FROM ledger l WHERE l.msisdn = s.msisdn)"
)
#: bounds of every wait (the test fails rather than hangs)
PATIENCE = 240.0


@pytest.fixture
def database_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


class Replies:
    """Every MT on ``sms/mt/#``, by the MO it answers (a paho client on its own thread)."""

    def __init__(self, port: int) -> None:
        self.answered: set[str] = set()
        self.received = 0
        self._lock = threading.Lock()
        self._client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
        self._client.on_message = self._on_message
        self._client.connect("127.0.0.1", port)
        self._client.subscribe("sms/mt/#", qos=1)
        self._client.loop_start()

    def _on_message(self, _c: Any, _u: Any, message: paho.MQTTMessage) -> None:
        reply = json.loads(message.payload)
        with self._lock:
            self.received += 1
            if reply.get("in_reply_to"):
                self.answered.add(reply["in_reply_to"])

    def count(self) -> int:
        with self._lock:
            return len(self.answered)

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


def publish_all(port: int, messages: list[tuple[str, str, str]], progress: list[int]) -> None:
    """Publish every ``(id, from, text)`` to ``sms/mo/888`` at QoS 1 and wait for each
    PUBACK; ``progress[0]`` counts the ones the broker acknowledged."""
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client.max_inflight_messages_set(500)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        sent = []
        for mo_id, sender, text in messages:
            payload = json.dumps({"id": mo_id, "from": sender, "text": text})
            sent.append(client.publish("sms/mo/888", payload, qos=1))
            if len(sent) % 500 == 0:  # a paced publisher: at most 500 unacknowledged
                sent[-500].wait_for_publish(PATIENCE)
                progress[0] = len(sent) - 500
        for info in sent:
            info.wait_for_publish(PATIENCE)
        progress[0] = len(sent)
    finally:
        client.loop_stop()
        client.disconnect()


def wait_for(what: str, ready: Any, *, within: float = PATIENCE) -> None:
    deadline = time.monotonic() + within
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.2)


def clone_rows(
    conn: psycopg.Connection[Any], table: str, where: str, overrides: dict[str, str], n: int
) -> None:
    """``n`` copies of the row ``where`` picks, ``g`` running 1..n in ``overrides``."""
    columns = [
        c
        for (c,) in conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = %s AND is_identity = 'NO' AND is_generated = 'NEVER'"
            " ORDER BY ordinal_position",
            (table,),
        ).fetchall()
    ]
    values = ", ".join(overrides.get(c, c) for c in columns)
    conn.execute(
        f"INSERT INTO {table} ({', '.join(columns)})"  # noqa: S608 - the test's own names
        f" SELECT {values} FROM {table}, generate_series(1, {n}) AS g WHERE {where}"
    )


def gateways(tmp_path: Path, mosquitto: Mosquitto, url: str) -> list[GatewayProcess]:
    made = []
    for name in ("A", "B", "C"):
        folder = tmp_path / name
        folder.mkdir()
        env = {
            "SCGW_MQTT_URL": mosquitto.url,
            "SCGW_DATABASE_URL": url,
            "SCGW_CLOCK": "virtual",
            "SCGW_CLOCK_START": START,
            "SCGW_MQTT_CLIENT_ID": f"scgw-scale-{mosquitto.port}",
            "SCGW_INSTANCE_ID": name,
            "SCGW_MO_RATE_LIMIT": "0",
            "SCGW_LOG_LEVEL": "WARNING",
        }
        made.append(GatewayProcess(folder, env))
    return made


def test_three_instances_answer_every_mo_once_and_renew_each_pack_once(
    tmp_path: Path, mosquitto: Mosquitto, database_url: str
) -> None:
    """20,000 QoS-1 MOs from 2,000 subscribers over three gateways, one of them killed
    with SIGKILL halfway and restarted: every MO is recorded once and answered, no MO is
    charged twice, and every balance is its ledger's sum with no step lost. Then a week
    on the clock of one instance moves all three, and 100,000 packs due at one instant
    are renewed exactly once between them."""
    instances = gateways(tmp_path, mosquitto, database_url)
    replies = Replies(mosquitto.port)
    try:
        for gateway in instances:
            gateway.start(timeout=60)
        messages = [
            (f"mo-{s}-{k}", f"0913{s:06d}", TEXTS[k])
            for k in range(PER_SUBSCRIBER)
            for s in range(SUBSCRIBERS)
        ]
        progress = [0]
        started = time.monotonic()
        publisher = threading.Thread(
            target=publish_all, args=(mosquitto.port, messages, progress), daemon=True
        )
        publisher.start()
        wait_for("half the MOs published", lambda: progress[0] >= len(messages) // 2)
        instances[1].kill()  # mid-batch: MOs taken in but not acknowledged, replies unsent
        time.sleep(1)
        instances[1].start(timeout=60)
        publisher.join(PATIENCE)
        assert progress[0] == len(messages), "the broker did not take every MO"
        wait_for("every MO answered", lambda: replies.count() >= len(messages))
        print(f"{len(messages)} MOs answered in {time.monotonic() - started:.1f}s")

        with psycopg.connect(database_url) as conn:
            inbound = conn.execute("SELECT count(*) FROM inbound").fetchone()
            twice = conn.execute(
                "SELECT count(*) FROM (SELECT 1 FROM charges WHERE message_id IS NOT NULL"
                " GROUP BY msisdn, message_id HAVING count(*) > 1) AS x"
            ).fetchone()
            charged = conn.execute(
                "SELECT count(*) FROM charges WHERE reason = 'registration'"
            ).fetchone()
            unbalanced = conn.execute(UNBALANCED).fetchone()
            broken_steps = conn.execute(
                "SELECT count(*) FROM (SELECT balance_after, delta, lag(balance_after)"
                " OVER (PARTITION BY msisdn ORDER BY id) AS before FROM ledger) AS x"
                " WHERE before IS NOT NULL AND balance_after <> before + delta"
            ).fetchone()
            subscribers = conn.execute("SELECT count(*) FROM subscribers").fetchone()
        assert replies.answered >= {mo_id for mo_id, _, _ in messages}
        # shared, not copied: A and C (never restarted) each took a part of the MOs (a
        # copy to each would reach each, processed or found a duplicate)
        taken = [_counted(g, "scgw_mo_total{") for g in instances]
        assert 0 < taken[0] < len(messages), taken
        assert 0 < taken[2] < len(messages), taken
        assert inbound == (len(messages),)
        assert subscribers == (SUBSCRIBERS,)
        assert twice == (0,)
        assert charged is not None
        assert charged[0] >= SUBSCRIBERS
        assert unbalanced == (0,)
        assert broken_steps == (0,)

        # -- 100,000 renewals at one instant ----------------------------------------
        sent = replies.received
        template = "84990000000"
        publish_all(mosquitto.port, [("template", "0990000000", "DK ZL7")], [0])
        wait_for("the template registered", lambda: replies.count() > len(messages))
        with psycopg.connect(database_url) as conn:
            msisdn = "'8498' || lpad(g::text, 7, '0')"
            clone_rows(
                conn,
                "subscribers",
                f"msisdn = '{template}'",
                {"msisdn": msisdn, "balance": "100000", "email": "NULL"},
                RENEWALS,
            )
            conn.execute(
                "INSERT INTO ledger (msisdn, delta, balance_after, reason, at)"
                " SELECT msisdn, 100000, 100000, 'provision', created_at FROM subscribers"
                " WHERE starts_with(msisdn, '8498')"
            )
            clone_rows(
                conn,
                "subscriptions",
                f"msisdn = '{template}' AND package = 'ZL7'",
                {"id": "'bulk-' || g", "msisdn": msisdn},
                RENEWALS,
            )
            due = conn.execute(
                "SELECT count(*) FROM subscriptions WHERE next_action_at = %s", (DUE_MICROS,)
            ).fetchone()
        assert due == (RENEWALS + 1,)  # the clones and the template: all at one instant

        started = time.monotonic()
        with instances[0].http() as http:
            http.timeout = PATIENCE
            moved = http.post("/api/clock/advance", json={"seconds": 7 * 86_400})
        assert moved.status_code == 200, moved.text
        print(f"the advance over {RENEWALS} renewals took {time.monotonic() - started:.1f}s")
        week = "2026-03-17T10:00:00+07:00"
        for gateway in instances:  # the others follow the stored clock
            with gateway.http() as http:
                wait_for(
                    "every clock moved", lambda h=http: h.get("/api/clock").json()["now"] == week
                )
        with psycopg.connect(database_url) as conn:
            renewed = conn.execute(
                "SELECT count(*), count(DISTINCT subscription_id) FROM charges"
                " WHERE reason = 'renewal' AND starts_with(msisdn, '8498')"
            ).fetchone()
            next_week = conn.execute(
                "SELECT count(*) FROM subscriptions WHERE starts_with(msisdn, '8498')"
                " AND next_action_at = %s",
                (DUE_MICROS + WEEK_MICROS,),
            ).fetchone()
            balances = conn.execute(
                "SELECT balance, count(*) FROM subscribers WHERE starts_with(msisdn, '8498')"
                " GROUP BY balance"
            ).fetchall()
            unbalanced = conn.execute(UNBALANCED).fetchone()
        assert renewed == (RENEWALS, RENEWALS)
        assert next_week == (RENEWALS,)
        assert balances == [(100_000 - 5_000, RENEWALS)]
        assert unbalanced == (0,)
        shares = [_counted(g, "scgw_renewals_total{") for g in instances]
        print(f"renewals run by A, B, C: {shares}; MTs received: {replies.received - sent}")
        assert sum(1 for n in shares if n > 0) >= 2, f"the work was not shared: {shares}"
    finally:
        replies.close()
        for gateway in instances:
            gateway.stop()


def _counted(gateway: GatewayProcess, metric: str, label: str = "") -> int:
    """The sum of one counter's samples on this instance's ``/metrics`` (with ``label``)."""
    with gateway.http() as http:
        text = http.get("/metrics").text
    return sum(
        int(float(line.rsplit(" ", 1)[1]))
        for line in text.splitlines()
        if line.startswith(metric) and label in line
    )
