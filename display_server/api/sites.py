"""Sites and their live status: public, read-only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from display_server import office
from display_server.api.deps import ConfigDep, LangDep, RuntimeDep, SessionDep
from display_server.runtime import site_status

router = APIRouter(prefix="/api/v1", tags=["sites"])


@router.get("/sites")
def list_sites(
    session: SessionDep, runtime: RuntimeDep, config: ConfigDep, lang: LangDep
) -> dict[str, Any]:
    """Every site with its services, today's remaining tickets and live waiting counts."""
    now = runtime.now()
    sites = []
    for site in config.sites:
        status = site_status(runtime, session, site, now, lang=lang)
        sites.append(
            {
                "id": site.id,
                "name": site.name.get(lang),
                "names": {"ja": site.name.ja, "en": site.name.en},
                "accepting": status["accepting"],
                "next_opening": status["next_opening"],
                "services": status["services"],
            }
        )
    return {"example": config.example, "at": now.isoformat(), "sites": sites}


@router.get("/sites/{site}/status")
def get_site_status(
    site: str, session: SessionDep, runtime: RuntimeDep, config: ConfigDep, lang: LangDep
) -> dict[str, Any]:
    """Waiting and estimated wait per service, counters, and the numbers being called."""
    found = office.find_site(config, site)
    return site_status(runtime, session, found, runtime.now(), lang=lang)
