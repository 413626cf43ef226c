"""Kiosks report their own and their printer's health; staff and the floor view read it.

A report always refreshes the device's row (so `updated_at` shows the kiosk is alive), but an
event is logged and published only when the state changes: a kiosk reporting "ok" every
30 seconds must not flood the event log or the live channels.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from display_server import office
from display_server.api.deps import PrincipalDep, RuntimeDep, SessionDep
from display_server.core.errors import InvalidTransition
from display_server.core.tickets import Event, EventType
from display_server.live import publish_outcome
from display_server.runtime import transact
from display_server.security import Forbidden, Role, require
from display_server.store import devices as device_store
from display_server.store import events as event_store
from display_server.store.models import DeviceStatusRow

router = APIRouter(prefix="/api/v1", tags=["devices"])

DeviceState = Literal["ok", "paper_near_end", "paper_out", "cover_open", "offline", "unknown",
                      "error"]
DeviceId = Annotated[
    str, Path(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
]


class DeviceReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["printer", "kiosk"]
    state: DeviceState
    detail: str = Field(default="", max_length=500)
    #: Needed only for tokens not bound to a site (admin); a kiosk token's site is implied.
    site: str | None = Field(default=None, min_length=1, max_length=40)


def device_view(row: DeviceStatusRow) -> dict[str, Any]:
    return {
        "device": row.device,
        "site": row.site,
        "kind": row.kind,
        "state": row.state,
        "detail": row.detail,
        "updated_at": row.updated_at.isoformat(),
    }


@router.put("/devices/{device}/status")
async def report_status(
    device: DeviceId, body: DeviceReport, runtime: RuntimeDep, principal: PrincipalDep
) -> dict[str, Any]:
    """A kiosk (or admin) reports a device's state; 200 with the stored row and `changed`."""
    if principal is None:
        require(principal, Role.KIOSK)
    assert principal is not None
    site = body.site or principal.site
    if site is None:
        raise InvalidTransition("say which site the device is at (`site`)")
    office.find_site(runtime.config, site)
    require(principal, Role.KIOSK, site=site)
    now = runtime.now()

    def work(session: Session) -> tuple[office.Outcome, dict[str, Any]]:
        # The site's lock orders this event with ticket events, as every other writer does.
        office.lock_site(session, site=site)
        existing = device_store.device(session, device=device)
        if existing is not None and existing.site != site:
            raise Forbidden(f"device {device!r} belongs to another site")
        report = device_store.report(
            session, device=device, site=site, kind=body.kind, state=body.state,
            detail=body.detail, now=now,
        )
        events: tuple[tuple[int, Event], ...] = ()
        if report.changed:
            event = Event(
                type=EventType.DEVICE_STATUS, site=site, at=now, staff=principal.name,
                data={"device": device, "kind": body.kind, "state": body.state,
                      "previous": report.previous, "detail": body.detail},
            )
            events = ((event_store.append_event(session, event=event), event),)
        view = {**device_view(report.row), "changed": report.changed}
        return office.Outcome(site=site, events=events, created=report.changed), view

    outcome, view = await transact(runtime, work)
    await publish_outcome(runtime, outcome)
    return view


@router.get("/sites/{site}/devices")
def list_devices(site: str, session: SessionDep, runtime: RuntimeDep,
                 principal: PrincipalDep) -> dict[str, Any]:
    """Every kiosk and printer of the site with its last state (staff and floor of the site)."""
    office.find_site(runtime.config, site)
    require(principal, Role.STAFF, Role.FLOOR, site=site)
    rows = device_store.devices_of_site(session, site=site)
    return {"site": site, "devices": [device_view(row) for row in rows]}
