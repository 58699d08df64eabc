"""Fewer system calls under paho: reads in large gulps, queued packets sent together.

paho reads each packet with several ``recv`` calls on the socket (the command byte, each
byte of the remaining length, then the rest) and sends each packet with its own
``send``, so an MO, its PUBACK, its MT and the MT's PUBACK cost about eight system
calls. ``gulp_io`` changes two things on a connected client:

* reads: a buffer between paho and a plain TCP socket serves paho's ``recv``; the
  socket itself is read only when the buffer is empty, 64 KiB at a time. Because the
  buffer can hold packets the socket no longer signals as readable, the client's
  ``loop_read`` reads on until the buffer is empty. TLS sockets are left alone (the SSL
  layer buffers already).
* writes: before paho writes its queue, consecutive QoS 1 PUBLISH and PUBACK packets
  (the MTs of a batch, the acknowledgements of a batch of MOs) are joined into one
  packet, sent with one ``send``. Those two kinds need nothing done once written (a
  PUBLISH waits for its PUBACK, tracked by message id), so paho's bookkeeping for a
  partly written packet carries the joined one unchanged. Every other packet (CONNECT,
  SUBSCRIBE, PINGREQ, DISCONNECT, QoS 0) is left as paho queued it.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import aiomqtt
from paho.mqtt.client import MQTT_ERR_SUCCESS, PUBACK, PUBLISH

__all__ = ["gulp_io"]

_GULP = 65536


class _BufferedSocket:
    """A socket whose ``recv`` is served from a buffer; everything else is the socket's."""

    __slots__ = ("_data", "_pos", "_sock")

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._data = b""
        self._pos = 0

    @property
    def buffered(self) -> bool:
        return self._pos < len(self._data)

    def recv(self, size: int) -> bytes:
        data, pos = self._data, self._pos
        if pos >= len(data):
            data = self._sock.recv(_GULP)  # BlockingIOError when nothing came: as paho expects
            if not data:
                return data  # the broker closed the connection
            self._data, pos = data, 0
        self._pos = pos + size
        return data[pos : pos + size]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _joinable(packet: Any) -> bool:
    kind: int = packet["command"] & 0xF0
    return kind == PUBACK or (kind == PUBLISH and packet["qos"] > 0)


def _join_queued(queue: Any) -> None:
    """Join the joinable packets at the head of paho's queue into one."""
    if len(queue) < 2 or not _joinable(queue[0]) or not _joinable(queue[1]):
        return
    parts: list[bytes] = []
    while queue and _joinable(queue[0]):
        packet = queue.popleft()
        parts.append(bytes(packet["packet"][packet["pos"] :]))
    data = b"".join(parts)
    queue.appendleft(
        {
            "command": PUBACK,  # nothing to do once written (see the module's docstring)
            "mid": 0,
            "qos": 1,
            "pos": 0,
            "to_process": len(data),
            "packet": data,
            "info": None,
        }
    )


def gulp_io(client: aiomqtt.Client) -> None:
    """Read and write the connected ``client``'s socket in gulps (see above)."""
    paho = client._client
    write: Callable[[], Any] = paho.loop_write

    def loop_write() -> Any:
        _join_queued(paho._out_packet)
        return write()

    paho.loop_write = loop_write  # type: ignore[method-assign]
    _buffer_reads(paho)


def _buffer_reads(paho: Any) -> None:
    sock = paho._sock
    if type(sock) is not socket.socket:  # TLS, or already buffered
        return
    buffered = _BufferedSocket(sock)
    paho._sock = buffered
    read: Callable[..., Any] = paho.loop_read

    def loop_read(max_packets: int = 1) -> Any:
        rc = read(max_packets)
        while rc == MQTT_ERR_SUCCESS and buffered.buffered and paho._sock is buffered:
            rc = read(max_packets)
        return rc

    paho.loop_read = loop_read
