"""A console recording: a mark in the stored history, and what was done on the phones and
the clock since, written as a scenario file (``docs/scenarios.md``) that replays it.

The mark is a token, not a stored row: the clock's instant and the last MT and ledger
entry stored (``Position``). The file is built from the stored history alone: the MOs
after the mark (an MO in the mark's own second counts when its replies came after it),
their replies as expectations, top-ups and balance adjustments, the clock's moves (one
``advance_to`` before each instant that saw traffic, and one to where the clock stands),
and at the end every touched number's balance.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from gateway.domain.model import Subscriber
from gateway.domain.traffic import BalanceMove, Position, Received, Sent, Traffic

__all__ = ["Mark", "RecordingMeta", "scenario_toml", "touched"]

#: what has a meaning in a regular expression (spaces and the rest stay as they are)
_SPECIAL = re.compile(r"([\\.^$*+?{}\[\]|()])")
_TOKEN = re.compile(r"^(?P<at>[0-9]{1,18})-(?P<seq>[0-9]{1,18})-(?P<ledger>[0-9]{1,18})$")
#: a balance move that is something done (the rest follow from what was done)
_ACTIONS = ("topup", "adjustment")
_DONE = frozenset({"provision", *_ACTIONS})


@dataclass(frozen=True, slots=True)
class Mark:
    """Where a recording starts: the clock (to the second) and the stored history."""

    at: datetime
    position: Position

    @property
    def token(self) -> str:
        """``<epoch seconds>-<outbox seq>-<ledger id>``: the recording's id."""
        return f"{int(self.at.timestamp())}-{self.position.outbox_seq}-{self.position.ledger_id}"

    @classmethod
    def parse(cls, token: str, tz: tzinfo) -> Mark | None:
        """The mark a token names, or None when it is not one."""
        found = _TOKEN.match(token)
        if found is None:
            return None
        try:
            at = datetime.fromtimestamp(int(found["at"]), tz)
        except (OverflowError, OSError, ValueError):
            return None
        return cls(at, Position(int(found["seq"]), int(found["ledger"])))


@dataclass(frozen=True, slots=True)
class RecordingMeta:
    """What the replaying gateway needs besides the traffic."""

    now: datetime
    tz: tzinfo
    auto_provision: bool
    default_balance: int
    #: shipped catalogs by name; None: the shipped four
    catalogs: Sequence[str] | None = None
    #: a line for the file's head when the catalogs cannot be named
    note: str | None = None
    #: plans touched numbers had at the mark, which the replay starts without
    plans_at_mark: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(order=True)
class _Action:
    at: datetime
    rank: float
    table: dict[str, Any] = field(compare=False)


def _toml(value: Any) -> str:
    """A value in TOML: strings (JSON's escapes are TOML's), numbers, booleans, inline
    tables and arrays of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(f"no TOML for {type(value).__name__}")


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml(key)


def _literal(text: str) -> str:
    """``text`` as the runner reads it: ``$`` doubled (``${name}`` is a captured value)."""
    return text.replace("$", "$$")


def _exactly(text: str) -> str:
    """A regular expression that matches ``text`` and nothing else."""
    return "^" + _literal(_SPECIAL.sub(r"\\\1", text)) + "$"


def _sent_mos(mark: Mark, traffic: Traffic) -> list[tuple[Received, list[Sent]]]:
    """The MOs after the mark with their replies (in the order queued)."""
    replies: dict[tuple[str, str], list[Sent]] = {}
    for sent in traffic.sent:
        if sent.message.in_reply_to is not None:
            replies.setdefault((sent.msisdn, sent.message.in_reply_to), []).append(sent)
    return [
        (mo, replies.get((mo.msisdn, mo.message.id), []))
        for mo in traffic.received
        if mo.message.at > mark.at or (mo.msisdn, mo.message.id) in replies
    ]


def _actions(mark: Mark, traffic: Traffic) -> list[_Action]:
    """What was done, in order: MOs by their replies' place in the outbox; a top-up or an
    adjustment before the first MO of its instant that was charged after it."""
    charged: dict[tuple[str, str], int] = {}
    for move in traffic.moves:
        if move.message_id is not None:
            charged.setdefault((move.entry.msisdn, move.message_id), move.id)
    mos: list[tuple[datetime, float, int | None, dict[str, Any]]] = []
    for mo, replies in _sent_mos(mark, traffic):
        send = {"from": mo.msisdn, "to": mo.message.shortcode, "text": _literal(mo.message.text)}
        step: dict[str, Any] = {"send": send}
        if replies:
            step["expect_reply"] = [_exactly(r.message.text) for r in replies]
        else:
            step["expect_no_reply"] = True
        rank = float(replies[0].seq) if replies else 0.0
        mos.append((mo.message.at, rank, charged.get((mo.msisdn, mo.message.id)), step))
    mos.sort(key=lambda m: (m[0], m[1]))
    actions = [_Action(at, float(n), step) for n, (at, _, _, step) in enumerate(mos)]
    for move in traffic.moves:
        if move.entry.reason not in _ACTIONS:
            continue
        entry = move.entry
        step = (
            {"topup": {"msisdn": entry.msisdn, "amount": entry.delta}}
            if entry.reason == "topup"
            else {"provision": {"msisdn": entry.msisdn, "balance": entry.balance_after}}
        )
        later = [
            n
            for n, (at, _, ledger, _) in enumerate(mos)
            if at == entry.at and ledger is not None and ledger > move.id
        ]
        rank = later[0] - 0.5 if later else len(mos) + move.id / (move.id + 1)
        actions.append(_Action(entry.at, rank, step))
    actions.sort()
    return actions


def _balances_at_mark(traffic: Traffic, now: Mapping[str, Subscriber]) -> dict[str, int]:
    """Each touched number's balance at the mark (a number provisioned after it: the
    balance it was given then)."""
    first: dict[str, BalanceMove] = {}
    for move in traffic.moves:
        first.setdefault(move.entry.msisdn, move)
    found = {}
    for msisdn, subscriber in now.items():
        earliest = first.get(msisdn)
        if earliest is None:
            found[msisdn] = subscriber.balance
        elif earliest.entry.reason == "provision":
            found[msisdn] = earliest.entry.balance_after
        else:
            found[msisdn] = earliest.entry.balance_after - earliest.entry.delta
    return found


def touched(mark: Mark, traffic: Traffic) -> list[str]:
    """The numbers something was done on since the mark: they texted, were topped up,
    provisioned or adjusted (a number only renewed or texted by the gateway is not)."""
    numbers = {mo.msisdn for mo, _ in _sent_mos(mark, traffic)}
    numbers.update(m.entry.msisdn for m in traffic.moves if m.entry.reason in _DONE)
    return sorted(numbers)


def scenario_toml(
    mark: Mark, traffic: Traffic, subscribers: Mapping[str, Subscriber], meta: RecordingMeta
) -> str:
    """The scenario file: ``subscribers`` are the touched numbers as they are now."""
    tz = meta.tz
    start, end = mark.at.astimezone(tz), meta.now.astimezone(tz)
    lines = [
        "# Recorded in the shortcode-gateway console: replay it with `scgw scenario run`.",
        "# Replies are expected exactly (anchored, escaped); balances as they were at the save.",
    ]
    if meta.note:
        lines.append(f"# {meta.note}")
    lines += [
        "",
        "[scenario]",
        f"name = {_toml(f'Recorded from {start.isoformat()} to {end.isoformat()}')}",
        f"clock_start = {_toml(start.isoformat())}",
        f"auto_provision = {_toml(meta.auto_provision)}",
        f"default_balance = {meta.default_balance}",
    ]
    if meta.catalogs is not None:
        lines.append(f"catalogs = {_toml(list(meta.catalogs))}")
    at_mark = _balances_at_mark(traffic, subscribers)
    for msisdn, subscriber in sorted(subscribers.items()):
        lines += ["", "[[subscribers]]", f"msisdn = {_toml(msisdn)}"]
        lines.append(f"kind = {_toml(subscriber.kind)}")
        lines.append(f"balance = {at_mark[msisdn]}")
        if subscriber.language is not None:
            lines.append(f"language = {_toml(subscriber.language)}")
        if subscriber.email is not None:
            lines.append(f"email = {_toml(subscriber.email)}")
        if plans := meta.plans_at_mark.get(msisdn):
            lines.append(f"# had {', '.join(plans)} at the mark: the replay starts without it")
    steps: list[dict[str, Any]] = []
    cursor = mark.at
    for action in _actions(mark, traffic):
        if action.at > cursor:
            steps.append({"advance_to": action.at.astimezone(tz).isoformat()})
            cursor = action.at
        steps.append(action.table)
    if meta.now > cursor:
        steps.append({"advance_to": end.isoformat()})
    last: dict[str, Any] = {"name": "where the recording was saved"}
    balances = [{"msisdn": m, "equals": s.balance} for m, s in sorted(subscribers.items())]
    if balances:
        last["expect_balance"] = balances
    last["expect_clock"] = end.isoformat()
    steps.append(last)
    for step in steps:
        lines += ["", "[[steps]]"]
        lines += [f"{_key(k)} = {_toml(v)}" for k, v in step.items()]
    return "\n".join(lines) + "\n"
