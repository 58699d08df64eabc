"""Scenario files (TOML): what a harness keeps in its repository and runs in CI
(``docs/scenarios.md``). Parsing and validation only; running is in ``run.py``."""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from gateway.testing.runner import DEFAULT_CLOCK_START

__all__ = [
    "ACTIONS",
    "EXPECTATIONS",
    "Scenario",
    "ScenarioError",
    "Step",
    "load_scenario",
    "parse_duration",
    "resolve_catalogs",
    "scenario_problems",
]

#: what a step does (at most one per step) and what it checks afterwards
ACTIONS = ("send", "mail", "advance", "advance_to", "topup", "provision", "usage")
EXPECTATIONS = (
    "expect_reply",
    "expect_no_reply",
    "expect_error",
    "expect_balance",
    "expect_subscription",
    "expect_charge",
    "expect_charges",
    "expect_invoice",
    "expect_mt",
    "expect_mail",
    "expect_clock",
)
_DURATION = re.compile(
    r"^(?:(?P<w>\d+)w)?(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$"
)


class ScenarioError(Exception):
    """A scenario file that cannot be run: one line per problem, each naming the file."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(problems))


def parse_duration(text: str) -> timedelta:
    """``7d``, ``36h``, ``1d12h``, ``90m``, ``30s``, ``2w``: a span of virtual time."""
    found = _DURATION.match(text.replace(" ", ""))
    if found is None or not any(found.groupdict().values()):
        raise ValueError(f"{text!r} is not a duration such as 7d, 36h, 1d12h, 90m or 30s")
    n = {k: int(v or 0) for k, v in found.groupdict().items()}
    return timedelta(weeks=n["w"], days=n["d"], hours=n["h"], minutes=n["m"], seconds=n["s"])


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from exc
    return value


def _listed(value: Any) -> Any:
    """One table or an array of them: ``expect_balance = {...}`` or ``= [{...}, {...}]``."""
    return [value] if isinstance(value, dict) else value


Regex = Annotated[str, BeforeValidator(lambda v: _regex(v) if isinstance(v, str) else v)]
Msisdn = Annotated[str, Field(min_length=1, max_length=20)]


class _Strict(BaseModel):
    # a misspelt key is an error, not an expectation silently never checked
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Meta(_Strict):
    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    clock_start: AwareDatetime = DEFAULT_CLOCK_START
    #: catalog files, relative to the scenario file, or shipped ones by name (``zalo``)
    catalogs: list[str] | None = None
    auto_provision: bool = True
    default_balance: Annotated[int, Field(ge=0)] = 50_000
    #: any other gateway setting, e.g. ``{ data_rate_per_mb = 2000 }``
    settings: dict[str, Any] = Field(default_factory=dict)


class SubscriberSpec(_Strict):
    msisdn: Msisdn
    kind: Literal["prepaid", "postpaid"] = "prepaid"
    balance: Annotated[int, Field(ge=0)] | None = None
    language: Literal["vi", "vi-diacritics", "en"] | None = None
    email: str | None = None


class Send(_Strict):
    sender: Msisdn = Field(alias="from")
    to: str = "888"
    text: Annotated[str, Field(max_length=1600)]
    id: str | None = None


class MailIn(_Strict):
    """A mail to the gateway's SMTP port (a command to ``888@sms.local``, or support)."""

    sender: str = Field(alias="from")
    to: str
    subject: str = ""
    body: str = ""


class Topup(_Strict):
    msisdn: Msisdn
    amount: Annotated[int, Field(gt=0)]


class Usage(_Strict):
    msisdn: Msisdn
    app: str
    bytes: Annotated[int, Field(gt=0)]


class ExpectBalance(_Strict):
    msisdn: Msisdn
    equals: int


class ExpectSubscription(_Strict):
    """The latest registration of ``package``; ``status = "none"``: never registered."""

    msisdn: Msisdn
    package: str
    status: str | None = None
    expires_at: AwareDatetime | None = None
    next_renewal_at: AwareDatetime | None = None
    auto_renew: bool | None = None


class ExpectCharge(_Strict):
    """Some charge of ``msisdn`` has every field given."""

    msisdn: Msisdn
    package: str | None = None
    reason: str | None = None
    rule: str | None = None
    amount: int | None = None
    billing: Literal["balance", "invoice"] | None = None
    invoice_month: str | None = None
    at: AwareDatetime | None = None


class ExpectCharges(_Strict):
    """All of ``msisdn``'s charges: how many, and their sum."""

    msisdn: Msisdn
    count: Annotated[int, Field(ge=0)] | None = None
    total: int | None = None


class ExpectInvoice(_Strict):
    msisdn: Msisdn
    month: Annotated[str, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    total: int | None = None
    lines: Annotated[int, Field(ge=0)] | None = None


class ExpectMt(_Strict):
    """An SMS sent to ``msisdn`` during this step matches ``text``; ``count``: how many."""

    msisdn: Msisdn
    text: Regex | None = None
    count: Annotated[int, Field(ge=0)] | None = None


class ExpectMail(_Strict):
    """Mail to ``to`` (so far): one whose subject and body match; ``count``: how many."""

    to: str
    subject: Regex | None = None
    body: Regex | None = None
    count: Annotated[int, Field(ge=0)] | None = None


_Many = BeforeValidator(_listed)


class Step(_Strict):
    name: str | None = None
    send: Send | None = None
    mail: MailIn | None = None
    advance: str | None = None
    advance_to: AwareDatetime | None = None
    topup: Topup | None = None
    provision: SubscriberSpec | None = None
    usage: Usage | None = None
    #: the replies to this step's ``send``: one matches each regular expression
    expect_reply: Annotated[list[Regex], BeforeValidator(lambda v: [v] if isinstance(v, str) else v)] = Field(default_factory=list)  # fmt: skip
    expect_no_reply: bool = False
    #: the action is refused, with a reason matching this
    expect_error: Regex | None = None
    expect_balance: Annotated[list[ExpectBalance], _Many] = Field(default_factory=list)
    expect_subscription: Annotated[list[ExpectSubscription], _Many] = Field(default_factory=list)
    expect_charge: Annotated[list[ExpectCharge], _Many] = Field(default_factory=list)
    expect_charges: Annotated[list[ExpectCharges], _Many] = Field(default_factory=list)
    expect_invoice: Annotated[list[ExpectInvoice], _Many] = Field(default_factory=list)
    expect_mt: Annotated[list[ExpectMt], _Many] = Field(default_factory=list)
    expect_mail: Annotated[list[ExpectMail], _Many] = Field(default_factory=list)
    expect_clock: AwareDatetime | None = None

    @field_validator("advance")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @model_validator(mode="after")
    def _shape(self) -> Step:
        actions = [a for a in ACTIONS if getattr(self, a) is not None]
        if len(actions) > 1:
            raise ValueError(f"one action per step, this one has {', '.join(actions)}")
        if (self.expect_reply or self.expect_no_reply) and self.send is None:
            raise ValueError("expect_reply and expect_no_reply need a send in the same step")
        if self.expect_error is not None and not actions:
            raise ValueError("expect_error needs an action in the same step")
        if not actions and not self.expectations():
            raise ValueError(f"an empty step: give an action ({', '.join(ACTIONS)}) or an expect_*")
        return self

    @property
    def action(self) -> str | None:
        return next((a for a in ACTIONS if getattr(self, a) is not None), None)

    def expectations(self) -> list[str]:
        return [k for k in EXPECTATIONS if getattr(self, k) not in (None, False, [])]

    def label(self) -> str:
        """How a report names this step: its ``name``, else what it does."""
        if self.name:
            return self.name
        if self.send is not None:
            return f"send {self.send.text!r} from {self.send.sender} to {self.send.to}"
        if self.mail is not None:
            return f"mail {self.mail.subject!r} from {self.mail.sender} to {self.mail.to}"
        if self.advance is not None:
            return f"advance {self.advance}"
        if self.advance_to is not None:
            return f"advance to {self.advance_to.isoformat()}"
        if self.topup is not None:
            return f"topup {self.topup.amount} to {self.topup.msisdn}"
        if self.provision is not None:
            return f"provision {self.provision.msisdn}"
        if self.usage is not None:
            return f"usage {self.usage.bytes} bytes of {self.usage.app} by {self.usage.msisdn}"
        return ", ".join(self.expectations())


class Scenario(_Strict):
    scenario: Meta
    subscribers: list[SubscriberSpec] = Field(default_factory=list)
    steps: Annotated[list[Step], Field(min_length=1)]


def _where(loc: tuple[int | str, ...]) -> str:
    """``("steps", 2, "expect_balance", 0, "equals")`` as ``step 3: expect_balance.equals``."""
    parts = [str(p) for p in loc if not (isinstance(p, int) and loc[0] != "steps")]
    if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
        rest = [str(p) for p in loc[2:] if not isinstance(p, int)]
        return f"step {loc[1] + 1}" + (f": {'.'.join(rest)}" if rest else "")
    if len(loc) >= 2 and loc[0] == "subscribers" and isinstance(loc[1], int):
        rest = [str(p) for p in loc[2:]]
        return f"subscriber {loc[1] + 1}" + (f": {'.'.join(rest)}" if rest else "")
    return ".".join(parts) or "(file)"


def scenario_problems(path: Path) -> tuple[Scenario | None, list[str]]:
    """The scenario in ``path``, or every problem with it (one line each, naming the file)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return None, [f"{path}: cannot read it: {exc.strerror or exc}"]
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return None, [f"{path}: not TOML: {exc}"]
    try:
        return Scenario.model_validate(data), []
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown key (see docs/scenarios.md for the keys)"
            problems.append(f"{path}: {_where(tuple(error['loc']))}: {message}")
        return None, problems


def load_scenario(path: Path) -> Scenario:
    scenario, problems = scenario_problems(path)
    if scenario is None:
        raise ScenarioError(path, problems)
    return scenario


def resolve_catalogs(scenario: Scenario, path: Path) -> tuple[Path, ...] | None:
    """The scenario's catalogs: a shipped one by name, else a file beside the scenario."""
    from gateway.settings import DEFAULT_CATALOGS

    if scenario.scenario.catalogs is None:
        return None
    shipped = {p.stem: p for p in DEFAULT_CATALOGS}
    found = []
    for name in scenario.scenario.catalogs:
        candidate = Path(name).expanduser()
        if name in shipped:
            found.append(shipped[name])
        elif candidate.is_absolute():
            found.append(candidate)
        else:
            found.append(path.parent / candidate)
    return tuple(found)
