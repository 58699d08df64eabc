"""The socket beneath paho: the gateway's hot-path packets handled here, the rest by paho.

An MO costs four MQTT packets: its PUBLISH in, its PUBACK out, the reply's PUBLISH out
and that PUBLISH's PUBACK in. Through paho each is several ``recv`` calls, a packet
dict, an ``MQTTMessage`` with MQTT 5 ``Properties``, a topic match, a callback and
(inbound) aiomqtt's ``Message`` and queue; that per-packet Python was most of the event
loop's CPU per MO (docs/performance.md, "The MQTT lane"). A ``Lane`` sits between paho
and the connected socket (plain TCP or TLS) and takes those four kinds itself:

* reads: the socket is read 64 KiB at a time and split into whole packets. A PUBLISH at
  QoS 0 or 1 is decoded here and handed to ``on_publish`` (topic, payload, QoS, message
  id, retain); a PUBACK whose message id the lane sent is matched here. Every other
  packet (CONNACK, SUBACK, PINGRESP, QoS 2 flows, PUBACKs of paho's own publishes,
  anything malformed) is passed on, whole and in order, to paho, which reads it from a
  buffer (``_PahoSocket``) exactly as it would from the socket.
* writes: ``ack`` queues the PUBACKs of a run of MOs, ``publish`` the PUBLISH packets
  of a batch of MTs, each as one packet in paho's output queue (so they go out in order
  with paho's own packets, under paho's write handling). Consecutive QoS 1 PUBLISH and
  PUBACK packets paho queued itself are joined before a write (one ``send``): neither
  needs anything done once written (a PUBLISH waits for its PUBACK, by message id), so
  paho's bookkeeping for a partly written packet carries the joined one unchanged.

Message ids come from paho's own generator, so the lane's and paho's never collide.
The connection, CONNECT and the session, SUBSCRIBE, keep-alive and reconnecting stay
aiomqtt's and paho's. Until ``on_publish`` is set the lane passes PUBLISH packets on to
paho (aiomqtt's message queue), as it does with everything it does not handle.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import aiomqtt
from paho.mqtt.client import MQTT_ERR_SUCCESS, PUBACK, PUBLISH, time_func

__all__ = ["Acknowledged", "Lane", "OnPublish", "install_lane"]

_GULP = 65536

#: ``on_publish(topic, payload, qos, mid, retain)``
OnPublish = Callable[[str, bytes, int, int, bool], None]


class Acknowledged(Protocol):
    """What waits for one PUBLISH of the lane: ``set`` runs when its PUBACK is in."""

    def set(self) -> None: ...


def _varint(n: int) -> bytes:
    if n < 128:
        return bytes((n,))
    out = bytearray()
    while n:
        byte, n = n & 127, n >> 7
        out.append(byte | 128 if n else byte)
    return bytes(out)


class _PahoSocket:
    """What paho reads: the packets the lane passed on; everything else is the socket's.

    ``recv`` never touches the socket: with nothing buffered it raises
    ``BlockingIOError`` (paho's "nothing yet"), returns ``b""`` once the broker closed
    the connection, or raises the error the lane's read met.
    """

    __slots__ = ("_data", "_pos", "closed", "error", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._data = b""
        self._pos = 0
        self.closed = False
        self.error: OSError | None = None

    @property
    def pending_for_paho(self) -> bool:
        return self._pos < len(self._data) or self.closed or self.error is not None

    def give(self, packets: list[bytes]) -> None:
        self._data = self._data[self._pos :] + b"".join(packets)
        self._pos = 0

    def recv(self, size: int) -> bytes:
        data, pos = self._data, self._pos
        if pos >= len(data):
            if self.error is not None:
                raise self.error
            if self.closed:
                return b""
            raise BlockingIOError
        self._pos = pos + size
        return data[pos : pos + size]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


class Lane:
    """The hot-path packets of one connection (see the module's docstring)."""

    def __init__(self, paho: Any, sock: socket.socket, version: str) -> None:
        self._paho = paho
        self._sock = sock
        self._for_paho = _PahoSocket(sock)
        self._v5 = version == "5"
        self._rest = b""
        #: PUBLISH packets of the lane waiting for their PUBACK, by message id
        self._waiting: dict[int, Acknowledged] = {}
        self.on_publish: OnPublish | None = None

    # -- reading ----------------------------------------------------------------------

    def read(self, paho_read: Callable[[int], Any], max_packets: int) -> Any:
        """Read what the socket has, handle the lane's packets, let paho read the rest."""
        self._gulp()
        rc = MQTT_ERR_SUCCESS
        paho = self._paho
        for_paho = self._for_paho
        while rc == MQTT_ERR_SUCCESS and for_paho.pending_for_paho and paho._sock is for_paho:
            rc = paho_read(max_packets)
        return rc

    def _gulp(self) -> None:
        sock, for_paho = self._sock, self._for_paho
        while True:
            try:
                data = sock.recv(_GULP)
            except (BlockingIOError, ssl.SSLWantReadError):
                return
            except ssl.SSLWantWriteError:
                self._paho._call_socket_register_write()
                return
            except OSError as exc:
                for_paho.error = exc
                return
            if not data:
                for_paho.closed = True
                return
            with self._paho._msgtime_mutex:
                self._paho._last_bytes_received = time_func()
            self._split(self._rest + data if self._rest else data)
            if not (isinstance(sock, ssl.SSLSocket) and sock.pending()):
                return

    def _split(self, buf: bytes) -> None:
        """Handle the whole packets in ``buf``; keep a partial one for the next read."""
        pos, size = 0, len(buf)
        passed: list[bytes] = []
        on_publish, waiting = self.on_publish, self._waiting
        while pos + 1 < size:
            # the remaining length: one to four bytes, seven bits each
            length, shift, i = 0, 0, pos + 1
            while i < size:
                byte = buf[i]
                length |= (byte & 127) << shift
                i += 1
                if byte < 128 or shift == 21:
                    break
                shift += 7
            else:
                break  # the length itself is not all here yet
            end = i + length
            if end > size:
                break
            command = buf[pos]
            kind = command & 0xF0
            if kind == PUBLISH and on_publish is not None and command & 0x06 != 0x06:
                if not self._publish_in(on_publish, command, buf, i, end):
                    passed.append(buf[pos:end])
            elif kind == PUBACK and length >= 2 and (mid := buf[i] << 8 | buf[i + 1]) in waiting:
                waiting.pop(mid).set()  # a refusal (reason >= 0x80) counts too, as in aiomqtt
            else:
                passed.append(buf[pos:end])
            pos = end
        self._rest = buf[pos:]
        if passed:
            self._for_paho.give(passed)

    def _publish_in(
        self, on_publish: OnPublish, command: int, buf: bytes, start: int, end: int
    ) -> bool:
        """Decode a PUBLISH (QoS 0 or 1) and hand it on; False to leave it to paho
        (malformed, or a topic alias, which the gateway never allows: paho decides)."""
        qos = (command >> 1) & 3
        try:
            tlen = buf[start] << 8 | buf[start + 1]
            p = start + 2 + tlen
            if tlen == 0 or p > end:
                return False
            topic = buf[start + 2 : p].decode()
            mid = 0
            if qos:
                mid = buf[p] << 8 | buf[p + 1]
                p += 2
            if self._v5:
                plen, shift = 0, 0
                while True:
                    byte = buf[p]
                    p += 1
                    plen |= (byte & 127) << shift
                    if byte < 128:
                        break
                    shift += 7
                p += plen
            if p > end:
                return False
        except (IndexError, UnicodeDecodeError):
            return False
        on_publish(topic, buf[p:end], qos, mid, bool(command & 1))
        return True

    # -- writing ----------------------------------------------------------------------

    def ack(self, mids: Sequence[int]) -> None:
        """Queue the PUBACKs of ``mids`` (QoS 1 MOs), in this order, as one packet."""
        if mids:
            data = b"".join([b"\x40\x02" + mid.to_bytes(2, "big") for mid in mids])
            self._paho._packet_queue(PUBACK, data, 0, 1)

    def publish(
        self, items: Sequence[tuple[str, bytes]], waiters: Sequence[Acknowledged]
    ) -> list[int]:
        """Queue QoS 1 PUBLISH packets of ``(topic, payload)``, as one packet; each
        waiter's ``set`` runs when its message's PUBACK is in. Returns the message ids."""
        mid_of = self._paho._mid_generate
        props = b"\x00" if self._v5 else b""
        parts: list[bytes] = []
        mids: list[int] = []
        waiting = self._waiting
        for (topic, payload), waiter in zip(items, waiters, strict=True):
            mid = mid_of()
            name = topic.encode()
            body = b"".join(
                (len(name).to_bytes(2, "big"), name, mid.to_bytes(2, "big"), props, payload)
            )
            parts.append(b"\x32" + _varint(len(body)) + body)
            waiting[mid] = waiter
            mids.append(mid)
        if parts:
            self._paho._packet_queue(PUBACK, b"".join(parts), 0, 1)
        return mids

    def forget(self, mids: Sequence[int], waiter_of: Callable[[Acknowledged], bool]) -> None:
        """Stop waiting for the PUBACKs of ``mids`` whose waiter ``waiter_of`` accepts."""
        waiting = self._waiting
        for mid in mids:
            waiter = waiting.get(mid)
            if waiter is not None and waiter_of(waiter):
                del waiting[mid]


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


def install_lane(client: aiomqtt.Client, version: str) -> Lane:
    """Put a ``Lane`` between the connected ``client``'s paho and its socket."""
    paho = client._client
    sock: Any = paho._sock
    if sock is None or isinstance(sock, _PahoSocket):
        raise aiomqtt.MqttError("the client is not connected")
    lane = Lane(paho, sock, version)
    write: Callable[[], Any] = paho.loop_write
    read: Callable[[int], Any] = paho.loop_read

    def loop_write() -> Any:
        _join_queued(paho._out_packet)
        return write()

    def loop_read(max_packets: int = 1) -> Any:
        if paho._sock is not lane._for_paho:  # closed, or a new connection
            return read(max_packets)
        return lane.read(read, max_packets)

    paho._sock = lane._for_paho
    paho.loop_write = loop_write  # type: ignore[method-assign]
    paho.loop_read = loop_read  # type: ignore[method-assign]
    return lane
