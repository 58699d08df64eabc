"""HTTP for console recordings: mark a point (``POST /api/recordings``), then fetch what was
done on the phones and the clock since as a scenario file
(``GET /api/recordings/{id}.toml``), built from the stored history
(:mod:`gateway.service.recording`)."""

from __future__ import annotations

import functools
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from carrier_rules import Catalog, parse_catalog
from gateway.adapters.http_deps import Service, Zone, iso
from gateway.adapters.http_schemas import Out, errors
from gateway.domain.model import Subscriber
from gateway.domain.traffic import Traffic
from gateway.service.gateway import GatewayService
from gateway.service.ports import Queries
from gateway.service.recording import Mark, RecordingMeta, scenario_toml, touched
from gateway.settings import DEFAULT_CATALOGS

__all__ = ["router"]

router = APIRouter(tags=["recordings"], responses=errors(503))


class RecordingOut(Out):
    #: the recording's id: the mark itself (``<epoch seconds>-<outbox seq>-<ledger id>``)
    id: str
    #: the clock at the mark, to the second
    at: str
    #: where its scenario file is
    url: str


@functools.cache
def _shipped() -> dict[str, tuple[str, Catalog]]:
    """The shipped catalogs by short code, with their names (``zalo``...)."""
    found = {}
    for path in DEFAULT_CATALOGS:
        catalog = parse_catalog(Path(path).read_text(encoding="utf-8"), source=str(path))
        found[catalog.shortcode] = (Path(path).stem, catalog)
    return found


def _catalogs(service: GatewayService) -> tuple[list[str] | None, str | None]:
    """The catalogs by their shipped names (None: the shipped four), or a note for the
    file's head when one of them is not a shipped one."""
    serving = service.engine.catalogue.catalogs
    shipped = _shipped()
    names = []
    for code, catalog in sorted(serving.items()):
        known = shipped.get(code)
        if known is None or known[1] != catalog:
            listed = ", ".join(sorted(serving))
            return None, (
                f"the gateway served catalogs of its own (short codes {listed}):"
                " list their files as [scenario] catalogs before replaying"
            )
        names.append(known[0])
    return (None if len(names) == len(shipped) else sorted(names)), None


@router.post("/api/recordings", status_code=201)
async def start(service: Service, tz: Zone) -> RecordingOut:
    """Mark this point: what is done from now on (MOs from any transport, top-ups,
    provisioning, clock moves) goes into the recording. Nothing is stored: the id is
    the mark, valid as long as the database is."""
    at = service.clock.now().replace(microsecond=0)
    position = await service.reads.read(lambda q: q.recording.position())
    mark = Mark(at, position)
    return RecordingOut(id=mark.token, at=iso(at, tz), url=f"/api/recordings/{mark.token}.toml")


@router.get(
    "/api/recordings/{recording}.toml",
    response_model=None,
    responses={
        200: {
            "content": {"application/toml": {}},
            "description": "a scenario file (docs/scenarios.md)",
        },
        **errors(404),
    },
)
async def scenario(recording: str, service: Service, tz: Zone) -> Response:
    """What was done since the mark, as a scenario file that `scgw scenario run` replays:
    the MOs with their replies expected exactly, top-ups, clock moves, and each touched
    number's balance at the end."""
    mark = Mark.parse(recording, tz)
    if mark is None:
        detail = f"no recording {recording!r}: ids look like 1773111600-12-4"
        return JSONResponse({"detail": detail}, status_code=404)

    def gather(q: Queries) -> tuple[Traffic, dict[str, Subscriber], dict[str, list[str]]]:
        traffic = q.recording.since(mark.position, mark.at)
        found = {m: q.subscribers.get(m) for m in touched(mark, traffic)}
        subscribers = {m: s for m, s in found.items() if s is not None}
        plans = {
            m: [
                s.package
                for s in q.subscriptions.all_of(m)
                if s.started_at < mark.at and (s.is_open or s.expires_at > mark.at)
            ]
            for m in subscribers
        }
        return traffic, subscribers, plans

    traffic, subscribers, plans = await service.reads.read(gather)
    catalogs, note = _catalogs(service)
    meta = RecordingMeta(
        now=service.clock.now(),
        tz=tz,
        auto_provision=service.engine.policy.auto_provision,
        default_balance=service.engine.policy.default_balance,
        catalogs=catalogs,
        note=note,
        plans_at_mark=plans,
    )
    text = scenario_toml(mark, traffic, subscribers, meta)
    name = f"recording-{mark.at.astimezone(tz).strftime('%Y%m%dT%H%M%S')}.toml"
    return Response(
        text,
        media_type="application/toml",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
