"""The statistics page: charts (server-rendered SVG) with data tables, filters and CSV export."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from markupsafe import Markup

from display_server import charts
from display_server.api.deps import (
    ConfigDep,
    LangDep,
    PagePrincipalDep,
    RuntimeDep,
    SessionDep,
    TranslatorDep,
)
from display_server.api.stats import BadPeriod, period, visible_sites
from display_server.config import WardConfig
from display_server.errors import MadoguchiError
from display_server.i18n import Translator
from display_server.security import AuthError, Forbidden
from display_server.store import stats as stats_store
from display_server.web.pages import login_redirect, render

router = APIRouter(include_in_schema=False)
Param = Annotated[str, Query(max_length=40)]


def _date(value: str, _: Translator) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise BadPeriod(_("stats.error.date", value=value)) from exc


def _charts(
    report: dict[str, Any], config: WardConfig, _: Translator, lang: str
) -> dict[str, Markup]:
    """The four charts; each one's desc names its largest value for screen readers.

    Hours and days without data get an empty slot, so a gap shows as a gap."""
    empty = {"arrivals": 0, "wait_mean": None, "wait_p90": None}
    by_hour = {r["hour"]: r for r in report["by_hour"]}
    hours = [
        by_hour.get(h, {"hour": h, **empty})
        for h in (range(min(by_hour), max(by_hour) + 1) if by_hour else ())
    ]
    hour_labels = [_("stats.hour_label", hour=r["hour"]) for r in hours]
    arrivals = [r["arrivals"] for r in hours]
    means = [r["wait_mean"] for r in hours]
    names = {
        (s.id, v.id): (s.name.get(lang), v.name.get(lang)) for s in config.sites for v in s.services
    }
    several = len(report["sites"]) > 1
    svc_rows = report["by_service"]

    def svc_label(row: dict[str, Any]) -> str:
        site_name, svc_name = names.get(
            (row["site"], row["service"]), (row["site"], row["service"])
        )
        return f"{site_name} {svc_name}" if several else svc_name

    svc_labels = [svc_label(r) for r in svc_rows]
    by_day = {r["date"]: r for r in report["by_day"]}
    first, last = dt.date.fromisoformat(report["start"]), dt.date.fromisoformat(report["end"])
    days = [
        by_day.get(d.isoformat(), {"date": d.isoformat(), **empty})
        for d in (first + dt.timedelta(days=n) for n in range((last - first).days + 1))
    ]

    def peak(labels: list[str], values: list[Any]) -> str:
        pairs = [(v, label) for v, label in zip(values, labels, strict=True) if v]
        if not pairs:
            return _("stats.chart.no_data")
        value, label = max(pairs)
        return _("stats.chart.peak", label=label, value=round(value, 1))

    return {
        "arrivals_by_hour": charts.bar_chart(
            _("stats.chart.arrivals_by_hour"), peak(hour_labels, arrivals), hour_labels, arrivals
        ),
        "wait_by_hour": charts.bar_chart(
            _("stats.chart.wait_by_hour"),
            peak(hour_labels, means),
            hour_labels,
            means,
            marks=[r["wait_p90"] for r in hours],
            legend=(_("stats.wait_mean"), _("stats.wait_p90")),
        ),
        "wait_by_service": charts.hbar_chart(
            _("stats.chart.wait_by_service"),
            peak(svc_labels, [r["wait_mean"] for r in svc_rows]),
            svc_labels,
            [r["wait_mean"] for r in svc_rows],
            unit=_("stats.minutes_suffix"),
        ),
        "arrivals_by_day": charts.bar_chart(
            _("stats.chart.arrivals_by_day"),
            peak([d["date"] for d in days], [d["arrivals"] for d in days]),
            [d["date"][5:] for d in days],
            [d["arrivals"] for d in days],
        ),
    }


@router.get("/stats", response_model=None)
def stats_page(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    config: ConfigDep,
    principal: PagePrincipalDep,
    _: TranslatorDep,
    lang: LangDep,
    start: Param = "",
    end: Param = "",
    site: Param = "",
    service: Param = "",
) -> Response:
    """Administrators review every site; a floor manager sees their own site."""
    if principal is None:
        return login_redirect(request)
    allowed = visible_sites(config, principal, None, None)
    context: dict[str, Any] = {
        "_": _,
        "lang": lang,
        "config": config,
        "allowed": allowed,
        "form": {"start": start, "end": end, "site": site, "service": service},
        "service_choices": {
            v.id: v.name.get(lang) for s in config.sites if s.id in allowed for v in s.services
        }.items(),
    }
    try:
        sites = visible_sites(config, principal, site or None, service or None)
        chosen = period(config, runtime.now(), _date(start, _), _date(end, _))
    except (AuthError, Forbidden):
        raise
    except MadoguchiError as exc:
        return render(request, "stats.html", {**context, "error": str(exc)}, status_code=400)
    report = stats_store.report(
        session,
        config=config,
        sites=sites,
        period=chosen,
        service=service or None,
        now=runtime.now(),
    )
    query = {
        "start": chosen.first.isoformat(),
        "end": chosen.last.isoformat(),
        "site": site,
        "service": service,
    }
    context["form"].update(start=query["start"], end=query["end"])
    return render(
        request,
        "stats.html",
        {
            **context,
            "report": report,
            "charts": _charts(report, config, _, lang),
            "csv_url": "/api/v1/stats.csv?" + urlencode({k: v for k, v in query.items() if v}),
            "counter_names": {
                c.id: f"{s.name.get(lang)} {c.name.get(lang)}" for s, c in config.counters()
            },
            "service_names": {
                (s.id, v.id): v.name.get(lang) for s in config.sites for v in s.services
            },
            "site_names": {s.id: s.name.get(lang) for s in config.sites},
        },
    )
