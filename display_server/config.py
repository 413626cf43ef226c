"""The ward configuration: sites, services, counters and hours, loaded from TOML.

Everything is a frozen pydantic model that rejects bad values; `load_config` turns every problem
into a `ConfigError` that names the file, the key and the reason, so an operator can fix them all
in one go (`madoguchi config check FILE`).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Literal, TypeVar
from zoneinfo import ZoneInfo

import jpholiday
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from display_server.errors import ConfigError

T = TypeVar("T")

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EXAMPLE_CONFIG = Path(__file__).with_name("example_ward.toml")

Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Names(Frozen):
    """A text in Japanese (required) and English (required), more languages optional."""

    model_config = ConfigDict(frozen=True, extra="allow")
    ja: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        """The text in `lang`, or Japanese when that language has none."""
        extra = self.model_extra or {}
        value = {"ja": self.ja, "en": self.en, **extra}.get(lang)
        return str(value) if value else self.ja


class OpeningHours(Frozen):
    """One day's hours: doors open, last ticket (reception cut-off), counters close."""

    open: dt.time
    cutoff: dt.time
    close: dt.time

    @model_validator(mode="after")
    def _ordered(self) -> OpeningHours:
        if not self.open < self.cutoff <= self.close:
            raise ValueError("hours must satisfy open < cutoff <= close")
        return self


class Service(Frozen):
    id: Identifier
    name: Names
    prefix: str = Field(default="", max_length=2, pattern=r"^[A-Z]*$")
    number_start: int = Field(default=1, ge=1, le=9999)
    number_end: int = Field(default=999, ge=1, le=9999)
    daily_cap: int | None = Field(default=None, ge=1)
    remote: bool = False
    default_service_minutes: float = Field(default=10.0, gt=0, le=240)

    @model_validator(mode="after")
    def _range(self) -> Service:
        if self.number_end < self.number_start:
            raise ValueError("number_end must not be below number_start")
        if self.daily_cap is not None and self.daily_cap > self.number_end - self.number_start + 1:
            raise ValueError("daily_cap is larger than the number range")
        return self


class Counter(Frozen):
    id: Identifier
    name: Names
    #: What the voice and the display call the counter: "3" in "3番窓口".
    label: str = Field(min_length=1, max_length=8)
    #: The work profile: services this counter serves, most important first.
    services: tuple[Identifier, ...] = Field(min_length=1)
    #: "longest_wait" takes the longest-waiting ticket across the profile (priority first);
    #: "strict_order" empties the first service before looking at the next.
    policy: Literal["longest_wait", "strict_order"] = "longest_wait"


class Site(Frozen):
    id: Identifier
    name: Names
    address: Names | None = None
    hours: dict[str, OpeningHours]
    services: tuple[Service, ...] = Field(min_length=1)
    counters: tuple[Counter, ...] = Field(min_length=1)
    #: Counters planned open, for the forecast's expected waits (default: all, all day). Per
    #: weekday a count for the whole day, or the counts from given times on, such as a lunch
    #: rotation: `tue = { "08:30" = 5, "12:00" = 3, "13:00" = 5 }`. The counters open are the
    #: first of `counters`, in their order.
    planned_counters: dict[str, int | dict[str, int]] = Field(default_factory=dict)

    @property
    def shares_counters(self) -> bool:
        """Whether a counter serves several services: a line then waits on the others too."""
        return any(len(counter.services) > 1 for counter in self.counters)

    @field_validator("hours", "planned_counters")
    @classmethod
    def _weekday_keys(cls, by_day: dict[str, T]) -> dict[str, T]:
        unknown = sorted(set(by_day) - set(WEEKDAYS))
        if unknown:
            raise ValueError(f"unknown weekday(s) {unknown}; use {', '.join(WEEKDAYS)}")
        return by_day

    @model_validator(mode="after")
    def _references(self) -> Site:
        service_ids = [service.id for service in self.services]
        duplicates = {sid for sid in service_ids if service_ids.count(sid) > 1}
        if duplicates:
            raise ValueError(f"duplicate service ids {sorted(duplicates)}")
        for counter in self.counters:
            missing = [sid for sid in counter.services if sid not in service_ids]
            if missing:
                raise ValueError(f"counter {counter.id!r} serves unknown services {missing}")
        prefixes = [(s.prefix, s.number_start, s.number_end) for s in self.services]
        for i, (prefix, start, end) in enumerate(prefixes):
            for other_prefix, other_start, other_end in prefixes[i + 1 :]:
                if prefix == other_prefix and start <= other_end and other_start <= end:
                    raise ValueError(
                        "two services share a prefix with overlapping number ranges; "
                        "a called number would be ambiguous"
                    )
        return self

    @model_validator(mode="after")
    def _counter_plans(self) -> Site:
        for day, plan in self.planned_counters.items():
            steps = _plan_steps(plan, where=f"planned_counters.{day}")
            for _, count in steps:
                if not 0 <= count <= len(self.counters):
                    raise ValueError(
                        f"planned_counters.{day}: {count} counter(s) planned, where the site "
                        f"has {len(self.counters)}; give 0 to {len(self.counters)}"
                    )
            hours = self.hours.get(day)
            if hours is not None and steps[0][0] > hours.open:
                raise ValueError(
                    f"planned_counters.{day}: the plan starts at {steps[0][0]:%H:%M}, after "
                    f"the site opens at {hours.open:%H:%M}; say how many counters are open from "
                    f"{hours.open:%H:%M}"
                )
        return self

    def service(self, service_id: str) -> Service | None:
        return next((s for s in self.services if s.id == service_id), None)

    def counter_plan(self, day: dt.date) -> tuple[tuple[dt.time, int], ...] | None:
        """How many counters are planned open on `day` from each time on, earliest first (the
        first from the start of the day); None when all are, all day."""
        plan = self.planned_counters.get(WEEKDAYS[day.weekday()])
        return None if plan is None else _plan_steps(plan, where="planned_counters")

    def hours_on(self, day: dt.date) -> OpeningHours | None:
        return self.hours.get(WEEKDAYS[day.weekday()])


def _plan_steps(plan: int | dict[str, int], *, where: str) -> tuple[tuple[dt.time, int], ...]:
    """A weekday's counter plan as (from time, counters) steps, earliest first; a whole day's
    count starts at midnight. Raises ValueError for a time that is not HH:MM or no times."""
    if isinstance(plan, int):
        return ((dt.time(0), plan),)
    if not plan:
        raise ValueError(f"{where}: give a number of counters, or times with numbers")
    steps = []
    for text, count in plan.items():
        try:
            if len(text) != 5:
                raise ValueError(text)
            steps.append((dt.time.fromisoformat(text), count))
        except ValueError:
            raise ValueError(f"{where}: {text!r} is not a time of day (HH:MM)") from None
    return tuple(sorted(steps))


class Policy(Frozen):
    """Rules shared by every site."""

    timezone: str = "Asia/Tokyo"
    #: A called ticket becomes a no-show after this many recalls without an answer.
    recalls_before_no_show: int = Field(default=2, ge=0, le=10)
    #: How long a no-show visitor may come back and be re-queued.
    rejoin_minutes: int = Field(default=60, ge=0, le=600)
    #: Remote tickets (from a phone) open per token-less client per site and day.
    remote_tickets_per_day: int = Field(default=1, ge=1, le=10)
    #: Fixed closed days every year (MM-DD): 年末年始 by default.
    closed_dates: tuple[str, ...] = ("12-29", "12-30", "12-31", "01-01", "01-02", "01-03")
    closed_on_holidays: bool = True
    #: Phone pages alert the visitor when this many people or fewer are ahead.
    near_turn_ahead: int = Field(default=3, ge=0, le=50)
    #: Crowding levels by expected wait in minutes: below the first is 空いています, etc.
    level_thresholds_min: tuple[float, float, float] = (15.0, 30.0, 60.0)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except Exception as exc:  # ZoneInfoNotFoundError or ValueError for odd strings
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("closed_dates")
    @classmethod
    def _month_days(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            try:
                dt.datetime.strptime(f"2024-{value}", "%Y-%m-%d")
            except ValueError as exc:
                raise ValueError(f"{value!r} is not a MM-DD date") from exc
        return values

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class WardConfig(Frozen):
    name: Names
    #: True for the shipped example; pages then say the data is an example.
    example: bool = False
    policy: Policy = Policy()
    sites: tuple[Site, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> WardConfig:
        site_ids = [site.id for site in self.sites]
        counter_ids = [c.id for site in self.sites for c in site.counters]
        for kind, ids in (("site", site_ids), ("counter", counter_ids)):
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise ValueError(f"duplicate {kind} ids {duplicates}")
        return self

    def site(self, site_id: str) -> Site | None:
        return next((s for s in self.sites if s.id == site_id), None)

    def counter(self, counter_id: str) -> tuple[Site, Counter] | None:
        for site in self.sites:
            for counter in site.counters:
                if counter.id == counter_id:
                    return site, counter
        return None

    def counters(self) -> Iterator[tuple[Site, Counter]]:
        for site in self.sites:
            for counter in site.counters:
                yield site, counter

    def is_closed_day(self, day: dt.date) -> bool:
        """年末年始, a fixed closed date, or a national holiday when the policy says so."""
        if day.strftime("%m-%d") in self.policy.closed_dates:
            return True
        return self.policy.closed_on_holidays and jpholiday.is_holiday(day)

    def hours_on(self, site: Site, day: dt.date) -> OpeningHours | None:
        """The site's hours on `day`, or None when it is closed all day."""
        if self.is_closed_day(day):
            return None
        return site.hours_on(day)


def _location(loc: tuple[int | str, ...], data: object) -> str:
    """Turn a pydantic error location into a TOML key path with ids instead of list indices."""
    parts: list[str] = []
    node = data
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            node = node[part]
            ident = node.get("id") if isinstance(node, dict) else None
            parts[-1] = f"{parts[-1]}[{ident!r}]" if ident else f"{parts[-1]}[{part}]"
            continue
        parts.append(str(part))
        node = node.get(part) if isinstance(node, dict) else None
    return ".".join(parts) or "(top level)"


def parse_config(text: str, *, source: str = "<config>") -> WardConfig:
    """Parse TOML text into a `WardConfig`, or raise `ConfigError` listing every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, [f"{source}: not valid TOML: {exc}"]) from exc
    try:
        return WardConfig.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        # A list whose items failed also reports itself as too short; the items' own errors
        # are the ones to fix.
        failed_inside = {err["loc"][:-1] for err in errors if len(err["loc"]) > 1}
        problems = [
            f"{source}: {_location(err['loc'], data)}: {err['msg']}"
            for err in errors
            if not (
                err["type"] == "too_short"
                and any(loc[: len(err["loc"])] == err["loc"] for loc in failed_inside)
            )
        ]
        raise ConfigError(source, problems) from exc


def load_config(path: Path | None = None) -> WardConfig:
    """Load the ward configuration from `path`, or the shipped example when `path` is None."""
    path = path or EXAMPLE_CONFIG
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), [f"{path}: cannot read: {exc}"]) from exc
    return parse_config(text, source=str(path))
