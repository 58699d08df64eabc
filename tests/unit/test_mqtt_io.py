"""Fewer system calls under paho: queued acks and MTs joined (the lane's reads and its
packets: tests/integration/test_mqtt_lane.py)."""

from __future__ import annotations

import collections

from paho.mqtt.client import PINGREQ, PUBACK, PUBLISH

from gateway.adapters.mqtt_io import _join_queued


def _packet(command: int, data: bytes, *, qos: int = 1, pos: int = 0) -> dict[str, object]:
    return {
        "command": command,
        "mid": 7,
        "qos": qos,
        "pos": pos,
        "to_process": len(data) - pos,
        "packet": data,
        "info": None,
    }


def test_queued_pubacks_and_qos1_publishes_go_out_as_one_packet_others_as_queued() -> None:
    """The head of paho's queue (a PUBACK, a QoS 1 PUBLISH already written in part) is
    joined; a PINGREQ stops the join, and what follows it stays as it was."""
    puback = _packet(PUBACK, b"\x40\x02\x00\x01")
    publish = _packet(PUBLISH | 0x02, b"\x32\x06abcdef", pos=2)  # 2 bytes already sent
    ping = _packet(PINGREQ, b"\xc0\x00", qos=0)
    later = _packet(PUBACK, b"\x40\x02\x00\x02")
    queue = collections.deque([puback, publish, ping, later])
    _join_queued(queue)
    joined = queue.popleft()
    assert joined["packet"] == b"\x40\x02\x00\x01abcdef"
    assert (joined["pos"], joined["to_process"], joined["command"]) == (0, 10, PUBACK)
    assert list(queue) == [ping, later]


def test_a_qos0_publish_or_a_lone_packet_is_left_alone() -> None:
    qos0 = _packet(PUBLISH, b"\x30\x02hi", qos=0)
    queue = collections.deque([qos0, _packet(PUBACK, b"\x40\x02\x00\x01")])
    _join_queued(queue)
    assert queue[0] is qos0
    assert len(queue) == 2
    lone = collections.deque([_packet(PUBACK, b"\x40\x02\x00\x01")])
    _join_queued(lone)
    assert len(lone) == 1
    assert lone[0]["mid"] == 7
