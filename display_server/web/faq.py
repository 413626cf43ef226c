"""FAQ pages: search for everyone (staff at the counter, floor managers, residents), and the
administrators' editor with each entry's history."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from display_server.api.deps import (
    ConfigDep,
    LangDep,
    PagePrincipalDep,
    RuntimeDep,
    SessionDep,
    TranslatorDep,
)
from display_server.api.faq import find, save, set_active
from display_server.config import WardConfig
from display_server.i18n import Translator
from display_server.security import Principal, Role, require
from display_server.store import faq as faq_store
from display_server.web.pages import login_redirect, render

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=4000)]
Short = Annotated[str, Form(max_length=200)]
EntryId = Annotated[int, Path(ge=1, le=2**31 - 1)]
IdQuery = Annotated[str | None, Query(max_length=40)]


def service_names(config: WardConfig, lang: str) -> dict[str, str]:
    """Service id → name (ids shared by several sites have one name)."""
    return {v.id: v.name.get(lang) for s in config.sites for v in s.services}


@router.get("/faq")
def faq_page(
    request: Request,
    session: SessionDep,
    config: ConfigDep,
    _: TranslatorDep,
    lang: LangDep,
    q: Annotated[str, Query(max_length=100)] = "",
    site: IdQuery = None,
    service: IdQuery = None,
) -> HTMLResponse:
    """Search results (or every entry) grouped by service; empty filters mean "all"."""
    entries = find(session, config, q=q, site=site or None, service=service or None)
    names = service_names(config, lang)
    groups: dict[str, list[Any]] = {}
    for entry in entries:
        groups.setdefault(entry.service or "", []).append(entry)
    return render(
        request,
        "faq.html",
        {
            "_": _,
            "lang": lang,
            "q": q,
            "site": site or "",
            "service": service or "",
            "groups": groups,
            "names": names,
            "count": len(entries),
            "config": config,
        },
    )


def _admin_page(request: Request, principal: Principal | None) -> Principal | RedirectResponse:
    if principal is None:
        return login_redirect(request)
    return require(principal, Role.ADMIN)


@router.get("/faq/admin", response_model=None)
def faq_admin(
    request: Request,
    session: SessionDep,
    config: ConfigDep,
    principal: PagePrincipalDep,
    _: TranslatorDep,
    lang: LangDep,
) -> Response:
    who = _admin_page(request, principal)
    if isinstance(who, RedirectResponse):
        return who
    return render(
        request,
        "faq_admin.html",
        {
            "_": _,
            "lang": lang,
            "entries": faq_store.entries(session, include_inactive=True),
            "names": service_names(config, lang),
        },
    )


def _editor(
    request: Request,
    _: Translator,
    lang: str,
    principal: Principal,
    *,
    entry_id: int | None,
    form: dict[str, Any],
    errors: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    runtime = request.app.state.runtime
    history: list[Any] = []
    if entry_id is not None:
        with runtime.sessions() as session:
            history = list(faq_store.revisions(session, entry_id=entry_id))
    return render(
        request,
        "faq_edit.html",
        {
            "_": _,
            "lang": lang,
            "entry_id": entry_id,
            "form": form,
            "errors": errors or [],
            "history": history,
            "kinds": faq_store.KINDS,
            "config": runtime.config,
            "names": service_names(runtime.config, lang),
            "csrf": runtime.signer.form_csrf(principal),
        },
        status_code=status_code,
    )


def _form_of(draft: faq_store.FaqDraft | None, active: bool = True) -> dict[str, Any]:
    if draft is None:
        return {
            "site": "",
            "service": "",
            "kind": "question",
            "ja_title": "",
            "ja_body": "",
            "en_title": "",
            "en_body": "",
            "readings": "",
            "active": True,
        }
    return {
        "site": draft.site or "",
        "service": draft.service or "",
        "kind": draft.kind,
        "ja_title": draft.ja.title,
        "ja_body": draft.ja.body,
        "en_title": draft.en.title if draft.en else "",
        "en_body": draft.en.body if draft.en else "",
        "readings": "、".join(draft.readings),
        "active": active,
    }


@router.get("/faq/admin/new", response_model=None)
def faq_new(
    request: Request, principal: PagePrincipalDep, _: TranslatorDep, lang: LangDep
) -> Response:
    who = _admin_page(request, principal)
    if isinstance(who, RedirectResponse):
        return who
    return _editor(request, _, lang, who, entry_id=None, form=_form_of(None))


@router.get("/faq/admin/{entry_id}", response_model=None)
def faq_edit(
    entry_id: EntryId,
    request: Request,
    session: SessionDep,
    principal: PagePrincipalDep,
    _: TranslatorDep,
    lang: LangDep,
) -> Response:
    who = _admin_page(request, principal)
    if isinstance(who, RedirectResponse):
        return who
    entry = faq_store.get(session, entry_id=entry_id)
    form = _form_of(faq_store.draft_of(entry), entry.active)
    return _editor(request, _, lang, who, entry_id=entry_id, form=form)


@router.post("/faq/admin/{target}", response_model=None)
async def faq_save(
    target: Annotated[str, Path(pattern=r"^(new|[1-9][0-9]{0,8})$")],
    request: Request,
    runtime: RuntimeDep,
    principal: PagePrincipalDep,
    _: TranslatorDep,
    lang: LangDep,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    site: Annotated[str, Form(max_length=40)] = "",
    service: Annotated[str, Form(max_length=40)] = "",
    kind: Annotated[str, Form(max_length=20)] = "question",
    ja_title: Short = "",
    ja_body: Text = "",
    en_title: Short = "",
    en_body: Text = "",
    readings: Annotated[str, Form(max_length=2000)] = "",
    active: Annotated[str | None, Form(max_length=5)] = None,
) -> Response:
    """Save the form (a new revision), or only show/hide the entry when `active` is sent."""
    who = _admin_page(request, principal)
    if isinstance(who, RedirectResponse):
        return who
    if who.via_session:
        runtime.signer.check_csrf(who.session_id, csrf_token)
    entry_id = None if target == "new" else int(target)
    if active is not None and entry_id is not None:
        await set_active(runtime, who, entry_id, active == "1")
        return RedirectResponse(f"/faq/admin/{entry_id}", status_code=303)
    form = {
        "site": site,
        "service": service,
        "kind": kind,
        "ja_title": ja_title,
        "ja_body": ja_body,
        "en_title": en_title,
        "en_body": en_body,
        "readings": readings,
        "active": True,
    }
    try:
        draft = faq_store.FaqDraft.model_validate(
            {
                "site": site or None,
                "service": service or None,
                "kind": kind,
                "ja": {"title": ja_title, "body": ja_body},
                "en": {"title": en_title, "body": en_body} if en_title or en_body else None,
                "readings": [r for r in re.split(r"[\s,、，]+", readings) if r],
            }
        )
    except ValidationError as exc:
        errors = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return _editor(
            request, _, lang, who, entry_id=entry_id, form=form, errors=errors, status_code=422
        )
    entry = await save(runtime, who, draft, entry_id)
    return RedirectResponse(f"/faq/admin/{entry.id}?saved=1", status_code=303)
