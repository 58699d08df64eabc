"""The ``scgw`` command: ``serve`` runs the gateway, ``send`` texts it and prints the replies."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from carrier_rules import CatalogError
from gateway.errors import GatewayError
from gateway.settings import Settings

__all__ = ["main"]


def _bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scgw", description="SMS short-code gateway simulator")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the gateway (flags override SCGW_* variables)")
    serve.add_argument(
        "--mqtt-url", help="mqtt://[user:pass@]host:port or mqtts://... (SCGW_MQTT_URL)"
    )
    serve.add_argument(
        "--mqtt-ca-file", type=Path, help="CA certificates (PEM) for mqtts:// (SCGW_MQTT_CA_FILE)"
    )
    serve.add_argument("--mqtt-protocol", choices=["auto", "3.1.1", "5"])
    serve.add_argument("--mqtt-client-id")
    serve.add_argument("--http-host")
    serve.add_argument("--http-port", type=int)
    serve.add_argument("--database-url", help="sqlite:///PATH (SCGW_DATABASE_URL)")
    serve.add_argument("--sqlite-synchronous", choices=["FULL", "NORMAL"])
    serve.add_argument("--clock", choices=["real", "virtual"])
    serve.add_argument("--clock-start", help="ISO 8601 start of the virtual clock")
    serve.add_argument("--auto-provision", type=_bool, metavar="true|false")
    serve.add_argument("--default-balance", type=int)
    serve.add_argument("--smtp-host")
    serve.add_argument("--smtp-port", type=int, help="0 picks a free port")
    serve.add_argument("--mail-domain", help="mail domain (default sms.local)")
    serve.add_argument("--smtp-max-size", type=int, help="largest mail in bytes")
    serve.add_argument("--smtp-max-recipients", type=int)
    serve.add_argument("--smtp-timeout", type=float, help="idle seconds before hanging up")
    serve.add_argument("--smtp-auth", choices=["none", "required"])
    serve.add_argument("--smtp-relay-url", help="smtp://[user:pass@]host[:port] (default: sink)")
    serve.add_argument("--support-policy", type=Path, help="support desk policy TOML")
    serve.add_argument("--data-rate-per-mb", type=int, help="out-of-bundle data, per started MB")
    serve.add_argument("--log-level")
    serve.add_argument("--log-format", choices=["auto", "json", "console"])
    serve.add_argument(
        "--catalog", dest="catalogs", action="append", type=Path, help="catalog TOML (repeatable)"
    )

    send = commands.add_parser(
        "send", help="send an SMS to a running gateway and print the replies"
    )
    send.add_argument("--from", dest="sender", required=True, help="MSISDN, e.g. 0912345678")
    send.add_argument("--to", default="888", help="short code (default 888)")
    send.add_argument("--id", help="message id (a resend with the same id is processed once)")
    send.add_argument(
        "--url",
        default=None,
        help="gateway HTTP URL (default http://SCGW_HTTP_HOST:SCGW_HTTP_PORT)",
    )
    send.add_argument("text")
    return parser


def _serve(args: argparse.Namespace) -> int:
    from gateway.bootstrap import serve

    overrides: dict[str, Any] = {
        k: v for k, v in vars(args).items() if k != "command" and v is not None
    }
    try:
        settings = Settings(**overrides)
        asyncio.run(serve(settings))
    except ValidationError as exc:
        print(f"scgw: invalid setting: {exc}", file=sys.stderr)
        return 2
    except CatalogError as exc:
        print(f"scgw: invalid catalog: {exc}", file=sys.stderr)
        return 2
    except GatewayError as exc:
        print(f"scgw: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


def _send(args: argparse.Namespace) -> int:
    url = args.url
    if url is None:
        settings = Settings()
        host = "127.0.0.1" if settings.http_host in ("0.0.0.0", "::") else settings.http_host  # noqa: S104
        url = f"http://{host}:{settings.http_port}"
    body: dict[str, Any] = {"from": args.sender, "to": args.to, "text": args.text}
    if args.id:
        body["id"] = args.id
    try:
        response = httpx.post(f"{url.rstrip('/')}/api/sms", json=body, timeout=30)
    except httpx.HTTPError as exc:
        print(f"scgw: cannot reach the gateway at {url}: {exc}", file=sys.stderr)
        return 1
    if response.status_code != 200:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        print(f"scgw: {response.status_code}: {detail}", file=sys.stderr)
        return 1
    for reply in response.json()["replies"]:
        print(reply["text"])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    return _send(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
