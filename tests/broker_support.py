"""A mosquitto with more than the defaults: persistence, users, TLS; and a certificate authority."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import MOSQUITTO, Mosquitto, _wait_port

__all__ = ["ConfiguredMosquitto", "FreezingProxy", "TlsFiles", "make_tls_files"]

OPENSSL = shutil.which("openssl")
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"


@dataclass
class ConfiguredMosquitto(Mosquitto):
    """A mosquitto of our own on a free port, with extra settings.

    ``persistent``: the broker writes its sessions, queued messages and retained
    messages to the test's folder when it stops (SIGTERM), and reads them back when it
    starts again, so a restart loses nothing. ``users``: only these may log in.
    ``tls``: the listener speaks TLS with this certificate.
    """

    persistent: bool = False
    users: dict[str, str] = field(default_factory=dict)
    tls: TlsFiles | None = None

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://127.0.0.1:{self.port}"

    def _config(self) -> str:
        # as root, mosquitto would become the user "mosquitto", who cannot read the
        # test's private folder: stay who we are
        lines = [f"user {getpass.getuser()}", f"listener {self.port} 127.0.0.1"]
        if self.tls is not None:
            lines += [
                f"cafile {self.tls.ca}",
                f"certfile {self.tls.cert}",
                f"keyfile {self.tls.key}",
            ]
        if self.users:
            passwords = self.workdir / f"passwords-{self.port}"
            passwords.write_text("")
            for user, password in self.users.items():
                subprocess.run(
                    [MOSQUITTO_PASSWD, "-b", str(passwords), user, password],
                    check=True,
                    capture_output=True,
                )
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        else:
            lines.append("allow_anonymous true")
        if self.persistent:
            lines += [
                "persistence true",
                f"persistence_location {self.workdir}/",
                f"persistence_file mosquitto-{self.port}.db",
            ]
        else:
            lines.append("persistence false")
        lines += ["max_queued_messages 0", "max_inflight_messages 0"]
        return "\n".join(lines) + "\n"

    def start(self) -> ConfiguredMosquitto:
        conf = self.workdir / f"mosquitto-{self.port}.conf"
        conf.write_text(self._config())
        with (self.workdir / f"mosquitto-{self.port}.log").open("ab") as log:
            self.process = subprocess.Popen(
                [MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=log
            )
        _wait_port(self.port, 10)
        return self


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    cert: Path
    key: Path


def make_tls_files(folder: Path, *, name: str = "scgw test") -> TlsFiles:
    """A fresh CA, and a server certificate it signed for 127.0.0.1 and localhost."""
    if OPENSSL is None:  # pragma: no cover - Debian has it wherever mosquitto is
        raise RuntimeError("the openssl command is needed to make test certificates")
    folder.mkdir(parents=True, exist_ok=True)
    ca, ca_key = folder / "ca.crt", folder / "ca.key"
    cert, key, csr = folder / "server.crt", folder / "server.key", folder / "server.csr"
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def openssl(*args: str) -> None:
        subprocess.run([OPENSSL, *args], check=True, capture_output=True)

    openssl(
        "req", "-x509", *ec, "-keyout", str(ca_key), "-out", str(ca), "-days", "2",
        "-subj", f"/CN={name} CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    openssl("req", *ec, "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1")
    extensions = folder / "server.ext"
    extensions.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "extendedKeyUsage=serverAuth\n"
        "basicConstraints=CA:FALSE\n"
    )
    openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
        "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(extensions),
    )  # fmt: skip
    return TlsFiles(ca=ca, cert=cert, key=key)


class FreezingProxy:
    """A TCP proxy in front of the broker whose connections can be frozen.

    ``freeze()`` makes the broker look hung to whoever is connected through the proxy:
    the connections stay open, but nothing passes either way (what arrives is dropped),
    so a publish sent then is in flight, never acknowledged. When the broker closes a
    connection (it stopped), the proxy stops listening and resets the other side, so the
    client sees the drop at once and its reconnects are refused; ``listen()`` again
    once the broker is back. ``freeze(deaf=True)`` freezes one way only: the broker's
    packets still reach the client, the client's are dropped (a half-open connection:
    what the client publishes or acknowledges then never arrives).
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._frozen: set[asyncio.StreamWriter] = set()
        self._deaf: set[asyncio.StreamWriter] = set()
        self._open: set[asyncio.StreamWriter] = set()

    async def listen(self) -> FreezingProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    def freeze(self, *, deaf: bool = False) -> None:
        if deaf:
            self._deaf |= self._open
        else:
            self._frozen |= self._open

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.transport.abort()
            return
        self._open |= {writer, up_writer}
        pumps = [
            asyncio.create_task(self._pump(reader, up_writer, writer)),
            asyncio.create_task(self._pump(up_reader, writer, writer)),
        ]
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        if pumps[1].done():  # the broker closed: it went away
            self.close()
        for task in pumps:
            task.cancel()
        for side in (writer, up_writer):
            side.transport.abort()
            self._open.discard(side)
            self._frozen.discard(side)
            self._deaf.discard(side)

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, client: asyncio.StreamWriter
    ) -> None:
        with contextlib.suppress(OSError):
            while data := await source.read(65536):
                if client in self._frozen or (sink is not client and client in self._deaf):
                    continue
                sink.write(data)
                await sink.drain()
