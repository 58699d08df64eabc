"""The MQTT baseline and the load generator, both threaded paho-mqtt, one process each.

The echo is the least a responder can do: subscribe to ``sms/mo/#``, decode the JSON,
publish one reply at QoS 1 from paho's network thread. The load generator sends from its
main thread and matches replies (by ``in_reply_to``) in paho's network thread; it drives
the echo and the gateway the same way, so the two are compared with one instrument.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from paho.mqtt.client import Client, ConnectFlags, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from benchmarks.common import (
    IDLE_TIMEOUT,
    INFLIGHT,
    MIXES,
    MO_TOPIC,
    MT_TOPICS,
    NODELAY,
    BenchError,
    Json,
    emit,
    figures,
    msisdn,
)


def cpu_seconds() -> float:
    """This process's CPU time so far (user + system, every thread)."""
    return time.process_time()


def _client(port: int, name: str, subscribe: str) -> tuple[Client, threading.Event]:
    """A connected paho client with TCP_NODELAY, subscribed (QoS 1) once the event is set."""
    client = Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"bench-{name}-{os.getpid()}",
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    client.max_inflight_messages_set(INFLIGHT)
    client.max_queued_messages_set(0)
    subscribed = threading.Event()

    def on_connect(
        c: Client, _u: object, _f: ConnectFlags, code: ReasonCode, _p: Properties | None
    ) -> None:
        if code.is_failure:
            raise BenchError(f"{name}: connect refused: {code}")
        c.subscribe(subscribe, qos=1)

    def on_subscribe(
        _c: Client, _u: object, _mid: int, _codes: list[ReasonCode], _p: Properties | None
    ) -> None:
        subscribed.set()

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.connect("127.0.0.1", port, keepalive=60)
    sock = client.socket()
    if isinstance(sock, socket.socket):
        sock.setsockopt(*NODELAY)
    return client, subscribed


def echo_worker(cfg: Mapping[str, Any]) -> None:
    """A bare responder: subscribe, parse JSON, publish a reply. No rules, no storage."""
    client, subscribed = _client(cfg["port"], "echo", "sms/mo/#")

    def on_message(c: Client, _u: object, message: MQTTMessage) -> None:
        data = json.loads(message.payload)
        reply = json.dumps({"id": uuid.uuid4().hex, "in_reply_to": data["id"], "text": "ok"})
        c.publish(f"sms/mt/{data['from']}", reply, qos=1)

    client.on_message = on_message
    client.loop_start()
    if not subscribed.wait(30):
        raise BenchError("echo: not subscribed after 30 s")
    emit("ready")
    threading.Event().wait()  # until the parent terminates us


def plan(cfg: Mapping[str, Any]) -> list[tuple[str, bytes]]:
    """The MOs: MO ``i`` from subscriber ``i % M``; each subscriber steps through the mix in
    turn (``DK``, ``HUY``, ``DK``... for *writes*), continuing from ``offset`` so that runs on
    one database carry on where the last stopped. Ids are unique per run."""
    senders, stride, offset, tag = cfg["senders"], cfg["stride"], cfg["offset"], cfg["tag"]
    texts = MIXES[cfg["mix"]]
    out = []
    for i in range(offset, offset + cfg["warmup"] + cfg["count"]):
        sender = msisdn((i % senders) * stride)
        text = texts[(i // senders) % len(texts)]
        message_id = f"{tag}-{i}"
        body = json.dumps({"id": message_id, "from": sender, "text": text}).encode()
        out.append((message_id, body))
    return out


class Loader:
    """Sends MOs and matches their replies; latencies are counted from the send (closed
    loop) or from the scheduled instant (open loop)."""

    def __init__(self, client: Client, window: int) -> None:
        self.client = client
        self.window = window
        self.pending: dict[str, float] = {}
        self.latencies: list[float] = []
        self.last_reply = 0.0
        self.unmatched = 0
        self.slots: threading.Semaphore | None = None

    def on_message(self, _c: Client, _u: object, message: MQTTMessage) -> None:
        now = time.perf_counter()
        sent = self.pending.pop(json.loads(message.payload).get("in_reply_to"), None)
        if sent is None:
            self.unmatched += 1
            return
        self.latencies.append(now - sent)
        self.last_reply = now
        if self.slots is not None:
            self.slots.release()

    def _wait_all(self) -> None:
        seen, since = len(self.latencies), time.monotonic()
        while self.pending:
            time.sleep(0.01)
            if len(self.latencies) != seen:
                seen, since = len(self.latencies), time.monotonic()
            elif time.monotonic() - since > IDLE_TIMEOUT:
                raise BenchError(f"{len(self.pending)} MOs unanswered after {IDLE_TIMEOUT:.0f}s")

    def closed(self, mos: Sequence[tuple[str, bytes]]) -> Json:
        """At most ``window`` MOs outstanding; the next goes out when a reply comes in."""
        self.latencies, self.slots = [], threading.Semaphore(self.window)
        start = time.perf_counter()
        for message_id, body in mos:
            if not self.slots.acquire(timeout=IDLE_TIMEOUT):
                raise BenchError(f"no reply for {IDLE_TIMEOUT:.0f}s in the closed loop")
            self.pending[message_id] = time.perf_counter()
            self.client.publish(MO_TOPIC, body, qos=1)
        self._wait_all()
        return figures(self.latencies, start, self.last_reply)

    def open(self, mos: Sequence[tuple[str, bytes]], rate: float) -> Json:
        """Send on a fixed schedule whatever the replies."""
        self.latencies, self.slots = [], None
        start = time.perf_counter() + 0.01
        sent = 0
        while sent < len(mos):
            due = min(len(mos), max(0, int((time.perf_counter() - start) * rate) + 1))
            for message_id, body in mos[sent:due]:
                self.pending[message_id] = start + sent / rate
                self.client.publish(MO_TOPIC, body, qos=1)
                sent += 1
            time.sleep(max(0.0, start + sent / rate - time.perf_counter()))
        sent_seconds = time.perf_counter() - start
        self._wait_all()
        result = figures(self.latencies, start, self.last_reply)
        return {**result, "offered_rate": rate, "sent_rate": len(mos) / sent_seconds}


def _report_progress(loader: Loader, stop: threading.Event) -> None:
    while not stop.wait(0.5):
        emit("progress", done=len(loader.latencies))


def load_worker(cfg: Mapping[str, Any]) -> None:
    """A warm-up (closed loop), then ``start``, the measured loop and ``result``."""
    mos = plan(cfg)
    warmup = cfg["warmup"]
    client, subscribed = _client(cfg["port"], "load", MT_TOPICS)
    loader = Loader(client, cfg["window"])
    client.on_message = loader.on_message
    client.loop_start()
    if not subscribed.wait(30):
        raise BenchError("load: not subscribed after 30 s")
    emit("ready")
    if warmup:
        loader.closed(mos[:warmup])
    stop = threading.Event()
    threading.Thread(target=_report_progress, args=(loader, stop), daemon=True).start()
    emit("start", total=len(mos) - warmup)
    cpu = cpu_seconds()
    if cfg["mode"] == "closed":
        result = loader.closed(mos[warmup:])
    else:
        result = loader.open(mos[warmup:], cfg["rate"])
    cpu = cpu_seconds() - cpu
    stop.set()
    client.disconnect()
    client.loop_stop()
    emit("result", **result, unmatched=loader.unmatched, cpu_s=cpu)
