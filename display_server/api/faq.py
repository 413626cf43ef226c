"""The FAQ per service: anyone reads and searches it; only administrators change it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from sqlalchemy.orm import Session

from display_server.api.deps import ConfigDep, LangDep, PrincipalDep, RuntimeDep, SessionDep
from display_server.config import WardConfig
from display_server.errors import MadoguchiError
from display_server.runtime import Runtime, transact
from display_server.security import Principal, Role, require
from display_server.store import faq as faq_store
from display_server.store.models import FaqEntryRow

router = APIRouter(prefix="/api/v1/faq", tags=["faq"])

SearchQuery = Annotated[str, Query(max_length=100)]
IdQuery = Annotated[str | None, Query(min_length=1, max_length=40)]
#: Bounded so that an absurd id is a 422, not a database integer overflow.
EntryId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class UnknownReference(MadoguchiError):
    """An FAQ entry names a site or service the ward does not have (400)."""


def entry_view(entry: FaqEntryRow, lang: str) -> dict[str, Any]:
    """One entry in `lang` (Japanese when it has no translation)."""
    text = entry.content.get(lang) or entry.content["ja"]
    return {
        "id": entry.id,
        "site": entry.site,
        "service": entry.service,
        "kind": entry.kind,
        "title": text["title"],
        "body": text["body"],
        "lang": lang if entry.content.get(lang) else "ja",
        "active": entry.active,
        "updated_at": entry.updated_at.isoformat(),
    }


def check_references(config: WardConfig, site: str | None, service: str | None) -> None:
    """Unknown site or service ids get a clear 400 rather than an entry nobody can find."""
    if site is not None and config.site(site) is None:
        raise UnknownReference(f"unknown site {site!r}")
    if service is not None and not any(s.service(service) for s in config.sites):
        raise UnknownReference(f"unknown service {service!r}")


def find(
    session: Session, config: WardConfig, *, q: str, site: str | None, service: str | None
) -> list[FaqEntryRow]:
    """Search when `q` has words, else every active entry; filters checked first."""
    check_references(config, site, service)
    if q.strip():
        return faq_store.search(session, query=q, site=site, service=service)
    return faq_store.entries(session, site=site, service=service)


@router.get("")
def search_faq(
    session: SessionDep,
    config: ConfigDep,
    lang: LangDep,
    q: SearchQuery = "",
    site: IdQuery = None,
    service: IdQuery = None,
) -> dict[str, Any]:
    """Active entries, optionally for one site/service, matching `q` (kana, kanji, partial)."""
    found = find(session, config, q=q, site=site, service=service)
    return {"query": q, "entries": [entry_view(e, lang) for e in found]}


def admin(principal: Principal | None) -> Principal:
    return require(principal, Role.ADMIN)


async def save(
    runtime: Runtime,
    principal: Principal | None,
    draft: faq_store.FaqDraft,
    entry_id: int | None = None,
) -> FaqEntryRow:
    """Create (entry_id None) or update an entry, with a revision; administrators only."""
    who = admin(principal)
    check_references(runtime.config, draft.site, draft.service)

    def work(session: Session) -> FaqEntryRow:
        if entry_id is None:
            return faq_store.create(session, draft=draft, now=runtime.now(), by=who.name)
        return faq_store.update(
            session, entry_id=entry_id, draft=draft, now=runtime.now(), by=who.name
        )

    return await transact(runtime, work)


async def set_active(
    runtime: Runtime, principal: Principal | None, entry_id: int, active: bool
) -> FaqEntryRow:
    who = admin(principal)

    def work(session: Session) -> FaqEntryRow:
        return faq_store.set_active(
            session, entry_id=entry_id, active=active, now=runtime.now(), by=who.name
        )

    return await transact(runtime, work)


@router.post("", status_code=201)
async def create_entry(
    draft: faq_store.FaqDraft, runtime: RuntimeDep, principal: PrincipalDep, lang: LangDep
) -> dict[str, Any]:
    return entry_view(await save(runtime, principal, draft), lang)


@router.put("/{entry_id}")
async def update_entry(
    entry_id: EntryId,
    draft: faq_store.FaqDraft,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    lang: LangDep,
) -> dict[str, Any]:
    return entry_view(await save(runtime, principal, draft, entry_id), lang)


@router.post("/{entry_id}/deactivate")
async def deactivate_entry(
    entry_id: EntryId, runtime: RuntimeDep, principal: PrincipalDep, lang: LangDep
) -> dict[str, Any]:
    return entry_view(await set_active(runtime, principal, entry_id, False), lang)


@router.post("/{entry_id}/activate")
async def activate_entry(
    entry_id: EntryId, runtime: RuntimeDep, principal: PrincipalDep, lang: LangDep
) -> dict[str, Any]:
    return entry_view(await set_active(runtime, principal, entry_id, True), lang)


@router.get("/{entry_id}/revisions")
def entry_revisions(
    entry_id: EntryId, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    """The edit history, newest first (administrators only)."""
    admin(principal)
    return {
        "entry": entry_id,
        "revisions": [
            {
                "action": r.action,
                "content": r.content,
                "active": r.active,
                "edited_at": r.edited_at.isoformat(),
                "edited_by": r.edited_by,
            }
            for r in faq_store.revisions(session, entry_id=entry_id)
        ],
    }
