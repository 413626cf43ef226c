"""FAQ entries per service with their edit history, search, and the starting set from TOML."""

from __future__ import annotations

import datetime as dt
import logging
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from display_server.config import WardConfig
from display_server.core.errors import NotFound
from display_server.errors import ConfigError
from display_server.faq_search import matches, query_terms, score, search_text
from display_server.store.models import FaqEntryRow, FaqRevisionRow

#: required documents, fees, where to go next, a common question.
Kind = Literal["documents", "fees", "next", "question"]
KINDS: tuple[str, ...] = ("documents", "fees", "next", "question")
#: The shipped starting set (a link to config/faq.example.toml, so that it is in the wheel).
DEFAULT_PATH = Path(__file__).resolve().parents[1] / "example_faq.toml"
log = logging.getLogger("madoguchi")


class FaqText(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=4000)


class FaqDraft(BaseModel):
    """What an administrator (or the starting set) writes; validated before anything is saved."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    site: str | None = Field(default=None, min_length=1, max_length=40)
    service: str | None = Field(default=None, min_length=1, max_length=40)
    kind: Kind = "question"
    ja: FaqText
    en: FaqText | None = None
    readings: tuple[str, ...] = Field(default=(), max_length=20)

    @field_validator("readings")
    @classmethod
    def _short_readings(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(v.strip() for v in values if v.strip())
        if any(len(v) > 60 for v in cleaned):
            raise ValueError("each reading must be at most 60 characters")
        return cleaned

    def content(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ja": self.ja.model_dump(), "readings": list(self.readings)}
        if self.en is not None:
            body["en"] = self.en.model_dump()
        return body

    def search_text(self) -> str:
        texts = [self.ja.title, self.ja.body]
        if self.en is not None:
            texts += [self.en.title, self.en.body]
        return search_text(texts, self.readings)


def draft_of(entry: FaqEntryRow) -> FaqDraft:
    """The stored entry as an editable draft."""
    content = entry.content
    return FaqDraft(
        site=entry.site,
        service=entry.service,
        kind=entry.kind,  # type: ignore[arg-type]  # stored values were validated on save
        ja=FaqText(**content["ja"]),
        en=FaqText(**content["en"]) if content.get("en") else None,
        readings=tuple(content.get("readings", ())),
    )


def entries(
    session: Session,
    *,
    site: str | None = None,
    service: str | None = None,
    include_inactive: bool = False,
) -> list[FaqEntryRow]:
    """Entries for `site` (its own and ward-wide ones) and `service`, in a stable order."""
    query = select(FaqEntryRow)
    if site is not None:
        query = query.where(or_(FaqEntryRow.site.is_(None), FaqEntryRow.site == site))
    if service is not None:
        query = query.where(FaqEntryRow.service == service)
    if not include_inactive:
        query = query.where(FaqEntryRow.active.is_(True))
    return list(session.scalars(query.order_by(FaqEntryRow.service, FaqEntryRow.id)))


def search(
    session: Session,
    *,
    query: str,
    site: str | None = None,
    service: str | None = None,
    limit: int = 50,
) -> list[FaqEntryRow]:
    """Active entries matching every word of `query`, best first.

    Matching happens in Python: an office has hundreds of entries, not millions, and the
    folding rules (see faq_search) are the same for the query and the stored text."""
    terms = query_terms(query)
    found = [
        e for e in entries(session, site=site, service=service) if matches(terms, e.search_text)
    ]
    found.sort(key=lambda e: -score(terms, e.search_text))
    return found[:limit]


def get(session: Session, *, entry_id: int) -> FaqEntryRow:
    entry = session.get(FaqEntryRow, entry_id)
    if entry is None:
        raise NotFound(f"no FAQ entry {entry_id}")
    return entry


def _revise(
    session: Session, entry: FaqEntryRow, action: str, now: dt.datetime, by: str | None
) -> None:
    session.add(
        FaqRevisionRow(
            entry_id=entry.id,
            action=action,
            content=entry.content,
            active=entry.active,
            edited_at=now,
            edited_by=by,
        )
    )


def create(session: Session, *, draft: FaqDraft, now: dt.datetime, by: str | None) -> FaqEntryRow:
    """A new active entry, with its first revision."""
    entry = FaqEntryRow(
        site=draft.site,
        service=draft.service,
        kind=draft.kind,
        content=draft.content(),
        search_text=draft.search_text(),
        active=True,
        updated_at=now,
        updated_by=by,
    )
    session.add(entry)
    session.flush()
    _revise(session, entry, "create", now, by)
    return entry


def update(
    session: Session, *, entry_id: int, draft: FaqDraft, now: dt.datetime, by: str | None
) -> FaqEntryRow:
    """Replace an entry's texts; the previous version stays in the history."""
    entry = get(session, entry_id=entry_id)
    entry.site, entry.service, entry.kind = draft.site, draft.service, draft.kind
    entry.content, entry.search_text = draft.content(), draft.search_text()
    entry.updated_at, entry.updated_by = now, by
    session.flush()
    _revise(session, entry, "update", now, by)
    return entry


def set_active(
    session: Session, *, entry_id: int, active: bool, now: dt.datetime, by: str | None
) -> FaqEntryRow:
    """Hide (deactivate) or show again; entries are never deleted, so history stays whole."""
    entry = get(session, entry_id=entry_id)
    entry.active, entry.updated_at, entry.updated_by = active, now, by
    session.flush()
    _revise(session, entry, "activate" if active else "deactivate", now, by)
    return entry


def revisions(session: Session, *, entry_id: int) -> Sequence[FaqRevisionRow]:
    """The entry's saved versions, newest first."""
    get(session, entry_id=entry_id)
    query = (
        select(FaqRevisionRow)
        .where(FaqRevisionRow.entry_id == entry_id)
        .order_by(FaqRevisionRow.id.desc())
    )
    return list(session.scalars(query))


def load_drafts(path: Path, config: WardConfig) -> list[FaqDraft]:
    """The `[[entries]]` of a FAQ TOML file, checked against the ward's sites and services."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        drafts = [FaqDraft.model_validate(item) for item in data.get("entries", [])]
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigError(str(path), [f"{path}: {exc}"]) from exc
    services = {s.id for site in config.sites for s in site.services}
    problems = [
        f"{path}: entry {i + 1}: unknown service {d.service!r}"
        for i, d in enumerate(drafts)
        if d.service is not None and d.service not in services
    ] + [
        f"{path}: entry {i + 1}: unknown site {d.site!r}"
        for i, d in enumerate(drafts)
        if d.site is not None and config.site(d.site) is None
    ]
    if problems:
        raise ConfigError(str(path), problems)
    return drafts


def seed_if_empty(
    session: Session, *, config: WardConfig, now: dt.datetime, path: Path | None = None
) -> int:
    """Load the starting set when the FAQ has no entries yet; returns how many were added.

    Only an empty table is seeded, so administrators' edits and deactivations survive restarts.
    """
    if session.scalar(select(func.count()).select_from(FaqEntryRow)):
        return 0
    if path is None and not DEFAULT_PATH.exists():
        # Installed from a wheel, which does not carry the repository's config/ folder: start
        # with an empty FAQ rather than refuse to start (an explicit path must exist).
        log.warning("no FAQ starting set at %s; the FAQ starts empty", DEFAULT_PATH)
        return 0
    drafts = load_drafts(path or DEFAULT_PATH, config)
    for draft in drafts:
        create(session, draft=draft, now=now, by="seed")
    return len(drafts)
