"""The ``scgw`` command: ``serve`` runs the gateway, ``send`` texts it and prints the replies."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from carrier_rules import CatalogError
from gateway import __version__, event_loop
from gateway.adapters.mqtt import parse_mo
from gateway.cli_harness import HARNESS_COMMANDS, add_harness_commands, run_harness_command
from gateway.cli_settings import SettingsProblem, Sources, add_setting_flags, load_settings
from gateway.errors import GatewayError, SettingError
from gateway.settings import Settings

if TYPE_CHECKING:
    import httpx

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (and exit code 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="scgw", description="SMS short-code gateway simulator")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="run the gateway",
        description="Run the gateway. Every flag is also an SCGW_* variable"
        " (--http-port: SCGW_HTTP_PORT); a flag wins over its variable.",
    )
    add_setting_flags(serve)
    serve.add_argument(
        "--fresh",
        action="store_true",
        help="start with a new database: an existing file is moved aside to"
        " <name>.<time>.bak (needed to switch a database between the real and virtual clock)",
    )

    send = commands.add_parser(
        "send", help="send an SMS to a running gateway and print the replies"
    )
    send.add_argument("--from", dest="sender", required=True, help="MSISDN, e.g. 0912345678")
    send.add_argument("--to", default="888", help="short code (default: 888)")
    send.add_argument("--id", help="message id (a resend with the same id is processed once)")
    send.add_argument(
        "--url",
        default=None,
        help="gateway HTTP URL (default: http://SCGW_HTTP_HOST:SCGW_HTTP_PORT)",
    )
    send.add_argument("text")
    add_harness_commands(commands)
    return parser


def _say(*lines: str) -> None:
    for line in lines:
        print(f"scgw: {line}", file=sys.stderr)


def _serve(args: argparse.Namespace) -> int:
    from gateway.bootstrap import serve

    flags = {
        name: value
        for name, value in vars(args).items()
        if name in Settings.model_fields and value is not None
    }
    sources = Sources(flags=flags)
    try:
        settings = load_settings(sources)
    except SettingsProblem as exc:
        _say(*exc.lines)
        return 2
    try:
        event_loop.run(serve(settings, fresh=args.fresh))
    except SettingError as exc:
        _say(f"{sources.given(exc.setting, getattr(settings, exc.setting, None))}: {exc.reason}")
        return 2
    except CatalogError as exc:
        _say(f"invalid catalog: {exc}")
        return 2
    except GatewayError as exc:
        _say(str(exc))
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


def _detail(response: httpx.Response) -> str:
    """The gateway's reason, on one line (a validation list without the echoed input)."""
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        return response.text.strip()
    if isinstance(detail, list):
        return "; ".join(
            f"{'.'.join(str(p) for p in item.get('loc', [])[1:])}: {item.get('msg')}"
            for item in detail
            if isinstance(item, dict)
        )
    return str(detail)


def _send(args: argparse.Namespace) -> int:
    # the checks MQTT makes, with the reasons it publishes on sms/errors
    body: dict[str, Any] = {"from": args.sender, "to": args.to, "text": args.text}
    if args.id is not None:
        body["id"] = args.id
    try:
        parse_mo(f"sms/mo/{args.to}", json.dumps(body).encode(), frozenset([args.to]))
    except GatewayError as exc:
        _say(str(exc))
        return 2
    url = args.url
    if url is None:
        try:
            settings = load_settings(Sources())
        except SettingsProblem as exc:
            _say(*exc.lines)
            return 2
        host = "127.0.0.1" if settings.http_host in ("0.0.0.0", "::") else settings.http_host  # noqa: S104
        url = f"http://{host}:{settings.http_port}"
    import httpx  # here: ``serve`` does not need it, and it costs start-up time

    try:
        response = httpx.post(f"{url.rstrip('/')}/api/sms", json=body, timeout=30)
    except httpx.HTTPError as exc:
        _say(f"cannot reach the gateway at {url}: {exc}")
        return 1
    if response.status_code != 200:
        _say(f"{response.status_code}: {_detail(response)}")
        return 1
    for reply in response.json()["replies"]:
        print(reply["text"])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command in HARNESS_COMMANDS:
        return run_harness_command(args)
    return _send(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
