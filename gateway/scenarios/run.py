"""Running a scenario on a fresh gateway of its own, step by step; every failed
expectation is one line naming the file, the step and what was seen."""

from __future__ import annotations

import re
import smtplib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from string import Template
from typing import Any

from gateway.client import ApiError, Message
from gateway.scenarios.model import (
    Scenario,
    Step,
    parse_duration,
    resolve_catalogs,
    scenario_problems,
)
from gateway.testing.brokers import BrokerChoice
from gateway.testing.harness import Scgw
from gateway.testing.runner import GatewayConfig, RunningGateway

__all__ = ["ScenarioResult", "run_file", "run_scenario"]


@dataclass
class ScenarioResult:
    path: Path
    name: str
    steps: int = 0
    steps_run: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures


class _StepFailed(Exception):
    pass


class _Context:
    """One scenario's run: the gateway, the step being run, the values captured so far."""

    def __init__(self, scgw: Scgw, path: Path) -> None:
        self.scgw = scgw
        self.path = path
        self.vars: dict[str, str] = {}
        self.replies: list[str] = []
        self.error: str | None = None
        #: the ids of the SMS each number had been sent before this step
        self.before: dict[str, set[str]] = {}

    def sub(self, text: str) -> str:
        """``${code}`` in a text: a value a regular expression captured earlier."""
        return Template(text).safe_substitute(self.vars)

    def capture(self, pattern: str, text: str) -> bool:
        found = re.search(self.sub(pattern), text)
        if found is None:
            return False
        self.vars.update({k: v for k, v in found.groupdict().items() if v is not None})
        return True


def _fmt(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else repr(value)


def _act(ctx: _Context, step: Step) -> None:
    scgw = ctx.scgw
    if step.send is not None:
        result = scgw.send(
            step.send.sender, ctx.sub(step.send.text), to=step.send.to, id=step.send.id
        )
        ctx.replies = [r.text for r in result.replies]
    elif step.mail is not None:
        mail = EmailMessage()
        mail["From"], mail["To"] = step.mail.sender, step.mail.to
        mail["Subject"] = ctx.sub(step.mail.subject)
        mail.set_content(ctx.sub(step.mail.body))
        try:
            with smtplib.SMTP("127.0.0.1", scgw.smtp_port, timeout=60) as smtp:
                smtp.send_message(mail)
        except smtplib.SMTPException as exc:
            raise ApiError(method="SMTP", path=step.mail.to, status=0, detail=str(exc)) from exc
    elif step.advance is not None:
        scgw.advance(seconds=parse_duration(step.advance).total_seconds())
    elif step.advance_to is not None:
        scgw.advance(to=step.advance_to)
    elif step.topup is not None:
        scgw.topup(step.topup.msisdn, step.topup.amount)
    elif step.provision is not None:
        p = step.provision
        scgw.provision(
            p.msisdn,
            p.kind,
            p.balance,
            language=p.language,
            **({"email": p.email} if p.email is not None else {}),
        )
    elif step.usage is not None:
        scgw.usage(step.usage.msisdn, step.usage.app, step.usage.bytes)


def _new_mts(ctx: _Context, msisdn: str) -> list[Message]:
    seen = ctx.before.get(msisdn, set())
    return [m for m in ctx.scgw.mt(msisdn) if m.id not in seen]


def _check(ctx: _Context, step: Step) -> list[str]:
    """What did not hold, one line each (without the file and step: the caller adds them)."""
    scgw, seen = ctx.scgw, []
    if step.expect_error is not None:
        if ctx.error is None:
            seen.append(f"expect_error {step.expect_error!r}: the {step.action} was accepted")
        elif not ctx.capture(step.expect_error, ctx.error):
            seen.append(f"expect_error {step.expect_error!r}: refused with {ctx.error!r}")
    elif ctx.error is not None:
        return [f"the {step.action} was refused: {ctx.error}"]
    for pattern in step.expect_reply:
        if not any(ctx.capture(pattern, text) for text in ctx.replies):
            seen.append(f"expect_reply {pattern!r}: the replies were {ctx.replies!r}")
    if step.expect_no_reply and ctx.replies:
        seen.append(f"expect_no_reply: the replies were {ctx.replies!r}")
    for b in step.expect_balance:
        balance = scgw.balance(b.msisdn)
        if balance != b.equals:
            seen.append(f"expect_balance {b.msisdn}: expected {b.equals}, saw {balance}")
    for s in step.expect_subscription:
        found = scgw.subscriber(s.msisdn).subscription(s.package)
        if found is None:
            if s.status != "none":
                seen.append(f"expect_subscription {s.msisdn} {s.package}: never registered")
            continue
        for key in ("status", "expires_at", "next_renewal_at", "auto_renew"):
            want, got = getattr(s, key), getattr(found, key)
            if want is not None and want != got:
                seen.append(
                    f"expect_subscription {s.msisdn} {s.package}: {key} expected {_fmt(want)},"
                    f" saw {_fmt(got)}"
                )
    for c in step.expect_charge:
        charges = scgw.charges(c.msisdn)
        wanted = c.model_dump(exclude={"msisdn"}, exclude_none=True)
        if not any(all(getattr(x, k) == v for k, v in wanted.items()) for x in charges):
            listed = [
                f"{x.package} {x.reason} {x.amount} {x.rule} {x.at.isoformat()}" for x in charges
            ]
            wants = ", ".join(f"{k}={_fmt(v)}" for k, v in wanted.items())
            seen.append(f"expect_charge {c.msisdn} ({wants}): none such in {listed}")
    for cs in step.expect_charges:
        charges = scgw.charges(cs.msisdn)
        if cs.count is not None and len(charges) != cs.count:
            seen.append(
                f"expect_charges {cs.msisdn}: count expected {cs.count}, saw {len(charges)}"
            )
        total = sum(x.amount for x in charges)
        if cs.total is not None and total != cs.total:
            seen.append(f"expect_charges {cs.msisdn}: total expected {cs.total}, saw {total}")
    for i in step.expect_invoice:
        invoice = scgw.invoice(i.msisdn, i.month)
        if i.total is not None and invoice.total != i.total:
            seen.append(
                f"expect_invoice {i.msisdn} {i.month}: total expected {i.total},"
                f" saw {invoice.total} ({[(x.description, x.amount) for x in invoice.lines]})"
            )
        if i.lines is not None and len(invoice.lines) != i.lines:
            seen.append(
                f"expect_invoice {i.msisdn} {i.month}: lines expected {i.lines},"
                f" saw {len(invoice.lines)}"
            )
    for m in step.expect_mt:
        texts = [x.text for x in _new_mts(ctx, m.msisdn)]
        if m.count is not None and len(texts) != m.count:
            seen.append(
                f"expect_mt {m.msisdn}: count expected {m.count}, saw {len(texts)}: {texts!r}"
            )
        if m.text is not None and not any(ctx.capture(m.text, t) for t in texts):
            seen.append(
                f"expect_mt {m.msisdn} {m.text!r}: the SMS sent in this step were {texts!r}"
            )
    for mail in step.expect_mail:
        mails = scgw.mails(to=mail.to)
        matching = [
            x
            for x in mails
            if (mail.subject is None or ctx.capture(mail.subject, x.subject))
            and (mail.body is None or ctx.capture(mail.body, x.snippet))
        ]
        if mail.count is not None and len(matching) != mail.count:
            seen.append(
                f"expect_mail {mail.to}: count expected {mail.count}, saw {len(matching)}"
                f" (subjects: {[x.subject for x in mails]!r})"
            )
        elif mail.count is None and not matching:
            seen.append(
                f"expect_mail {mail.to}: none matches; subjects: {[x.subject for x in mails]!r}"
            )
    if step.expect_clock is not None and (now := scgw.now()) != step.expect_clock:
        seen.append(
            f"expect_clock: expected {step.expect_clock.isoformat()}, saw {now.isoformat()}"
        )
    return seen


def run_scenario(scenario: Scenario, path: Path, scgw: Scgw) -> ScenarioResult:
    """Run ``scenario`` on ``scgw`` (a fresh gateway); stops at the first step that fails."""
    result = ScenarioResult(path=path, name=scenario.scenario.name, steps=len(scenario.steps))
    ctx = _Context(scgw, path)
    for s in scenario.subscribers:
        scgw.provision(
            s.msisdn,
            s.kind,
            s.balance,
            language=s.language,
            **({"email": s.email} if s.email is not None else {}),
        )
    for n, step in enumerate(scenario.steps, start=1):
        where = f"{path}: step {n} ({step.label()})"
        ctx.replies, ctx.error = [], None
        ctx.before = {m.msisdn: {x.id for x in scgw.mt(m.msisdn)} for m in step.expect_mt}
        try:
            _act(ctx, step)
        except ApiError as exc:
            ctx.error = f"{exc.status}: {exc.detail}" if exc.status else str(exc.detail)
        try:
            failures = _check(ctx, step)
        except ApiError as exc:
            failures = [f"cannot check: {exc}"]
        result.steps_run = n
        if failures:
            result.failures = [f"{where}: {f}" for f in failures]
            break
    return result


def run_file(
    path: Path,
    *,
    broker: BrokerChoice = "auto",
    workdir: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> ScenarioResult:
    """Parse ``path`` and run it on a gateway of its own (in ``workdir``, else a temporary
    folder removed afterwards)."""
    started = time.monotonic()
    scenario, problems = scenario_problems(path)
    if scenario is None:
        return ScenarioResult(path=path, name=path.stem, failures=problems)
    meta = scenario.scenario
    config = GatewayConfig(
        clock_start=meta.clock_start,
        catalogs=resolve_catalogs(scenario, path),
        auto_provision=meta.auto_provision,
        default_balance=meta.default_balance,
        broker=broker,
        settings=meta.settings,
    )
    with tempfile.TemporaryDirectory(prefix="scgw-scenario-") as scratch:
        folder = workdir if workdir is not None else Path(scratch)
        try:
            gateway = RunningGateway(config, workdir=folder).start()
        except Exception as exc:
            return ScenarioResult(
                path=path, name=meta.name, failures=[f"{path}: the gateway did not start: {exc}"]
            )
        try:
            result = run_scenario(scenario, path, Scgw(gateway))
        finally:
            gateway.stop()
    result.seconds = time.monotonic() - started
    if log is not None:
        log(f"{'PASS' if result.ok else 'FAIL'} {path} ({result.name})")
    return result
