"""The engagement dashboard: an admin page mounted by the admin site's get_urls (pages()).

After django/contrib/auth/admin.py: the site's `admin_view` guards it, the view asks
crm.permissions, and renders a TemplateResponse with the admin's context. The figures come
from engagement.analytics; this module only turns them into panels (a chart, its numbers
as a table, and a CSV of the same numbers).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.http import urlencode

from crm import permissions
from crm.admin import indexed_distinct_values
from crm.params import parse_id
from crm.roles import SALES_REP
from customers.models import Customer
from engagement.admin.display import STATUS_LABELS, TYPE_LABELS
from engagement.analytics.board import Dashboard, dashboard
from engagement.analytics.periods import Period, Segment
from engagement.analytics.prediction import AT_RISK_P_ALIVE
from engagement.models.results import CustomerType, Status
from engagement.workflow.outcomes import outcome_rows

from . import charts
from .timeline import timeline_view


@dataclass
class Panel:
    id: str
    title: str
    columns: list[str]
    rows: list[list]
    chart: str = ""
    note: str = ""
    side_table: bool = False
    wide: bool = False  # the whole row of the grid (a wide table)
    csv_url: str = field(default="")
    # The table as people read it (percent, money), when it differs from `rows` (the CSV's).
    display_rows: list[list] | None = None

    @property
    def table_rows(self) -> list[list]:
        return self.rows if self.display_rows is None else self.display_rows


def _label(day: dt.date, unit: str) -> str:
    if unit == "month":
        return day.strftime("%b %Y")
    if unit == "week":
        iso = day.isocalendar()
        return f"W{iso.week:02d} {iso.year}"
    return day.strftime("%d %b")


def _pct(value) -> str:
    return "\u2013" if value is None else f"{value * 100:.1f}%"


def _pct0(value) -> str:
    return "\u2013" if value is None else f"{value * 100:.0f}%"


def _plain(value) -> str:
    return "\u2013" if value is None else str(value)


def _money(value) -> str:
    return "\u2013" if value is None else f"{value:,.2f}"


# --- the selection: period and segment ---------------------------------------------------------


def _selection(request):
    """The period and segment of the request; bad values fall back to defaults, with a message."""
    params = request.GET
    try:
        period = Period.parse(
            period=params.get("period") or None,
            start=params.get("start") or None,
            end=params.get("end") or None,
        )
    except ValidationError as error:
        for name, errs in error.message_dict.items():
            messages.error(request, f"{name}: {' '.join(errs)}")
        period = Period.parse()
    owner = params.get("owner", "")
    if owner == "" and permissions.is_sales_rep(request.user):
        # A rep opens the dashboard on their own accounts; "all" widens it.
        owner = str(request.user.pk)
    owner_id = parse_id(owner)
    segment = Segment(
        owner_id=owner_id,
        kind=params.get("kind", "") if params.get("kind") in Customer.Kind.values else "",
        country=params.get("country", ""),
        industry=params.get("industry", ""),
    )
    selected = {
        "period": period.unit,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "owner": str(owner_id) if owner_id else "all",
        "kind": segment.kind,
        "country": segment.country,
        "industry": segment.industry,
    }
    return period, segment, selected


def _choices():
    owners = (
        get_user_model()
        .objects.filter(groups__name=SALES_REP, is_active=True)
        .order_by("username")
        .values_list("pk", "username")
    )
    return {
        "units": [("day", "Day"), ("week", "ISO week"), ("month", "Month")],
        "owners": [(str(pk), name) for pk, name in owners],
        "kinds": Customer.Kind.choices,
        "countries": indexed_distinct_values(Customer, Customer._meta.get_field("country")),
        "industries": indexed_distinct_values(Customer, Customer._meta.get_field("industry")),
    }


# --- panels ------------------------------------------------------------------------------------


def _panels(board: Dashboard) -> list[Panel]:
    unit = board.period.unit
    panels = []

    now = board.now
    status_rows = [[STATUS_LABELS[s], n] for s, n in now["status"].items()]
    panels.append(
        Panel(
            "status-now",
            "Customers by status now",
            ["Status", "Customers"],
            status_rows,
            charts.bar_chart(
                title="Customers by status now",
                labels=[r[0] for r in status_rows],
                values=[r[1] for r in status_rows],
                height=200,
            ),
            note="From the last engagement recompute.",
        )
    )
    type_rows = [[TYPE_LABELS[t], n] for t, n in now["types"].items()]
    panels.append(
        Panel(
            "types-now",
            "Customers by type now",
            ["Type", "Customers"],
            type_rows,
            charts.bar_chart(
                title="Customers by type now",
                labels=[r[0] for r in type_rows],
                values=[r[1] for r in type_rows],
                height=200,
            ),
            note="A customer may hold several types.",
        )
    )

    panels.extend(_prediction_panels(board))

    labels = [_label(r["start"], unit) for r in board.activity]
    status_keys = [s.value for s in Status]
    counts = board.status["counts"]
    panels.append(
        Panel(
            "status-over-time",
            "Status over time",
            ["Period", *[STATUS_LABELS[k] for k in status_keys]],
            [[r["start"], *[r[k] for k in status_keys]] for r in counts],
            charts.stacked_bar_chart(
                title="Customers by status at the end of each period",
                labels=labels,
                series=[(STATUS_LABELS[k], [r[k] for r in counts]) for k in status_keys],
            ),
            note="Replayed from the status history written by each recompute.",
        )
    )
    type_keys = [t.value for t in CustomerType]
    panels.append(
        Panel(
            "types-over-time",
            "Types over time",
            ["Period", *[TYPE_LABELS[k] for k in type_keys]],
            [[r["start"], *[r[k] for k in type_keys]] for r in board.types],
            charts.line_chart(
                title="Customers holding each type at the end of each period",
                labels=labels,
                series=[(TYPE_LABELS[k], [r[k] for r in board.types]) for k in type_keys],
            ),
        )
    )

    head = board.headline
    panels.append(
        Panel(
            "activity",
            "Active customers (DAU, WAU, MAU)",
            ["Period", "Active customers"],
            [[r["start"], r["active"]] for r in board.activity],
            charts.bar_chart(
                title=f"Distinct active customers per {unit}",
                labels=labels,
                values=[r["active"] for r in board.activity],
            ),
            note=(
                f"On {board.period.end:%d %b %Y}: DAU {head['dau']}, WAU {head['wau']}, "
                f"MAU {head['mau']}, DAU/MAU {_pct(head['stickiness'])}."
            ),
        )
    )
    month_labels = [_label(r["start"], "month") for r in board.stickiness]
    panels.append(
        Panel(
            "stickiness",
            "Stickiness (average DAU / MAU)",
            ["Month", "MAU", "Average DAU", "DAU/MAU"],
            [[r["start"], r["mau"], r["dau"], r["stickiness"]] for r in board.stickiness],
            charts.line_chart(
                title="DAU/MAU per month",
                labels=month_labels,
                series=[("DAU/MAU", [r["stickiness"] for r in board.stickiness])],
                fmt=_pct,
            ),
        )
    )
    keys = ("new", "returning", "resurrecting", "dormant")
    panels.append(
        Panel(
            "lifecycle",
            "Lifecycle",
            ["Period", "New", "Returning", "Resurrecting", "Dormant"],
            [[r["start"], *[r[k] for k in keys]] for r in board.lifecycle],
            charts.stacked_bar_chart(
                title=f"Active customers per {unit} by lifecycle, and dormant ones",
                labels=labels,
                series=[(k.capitalize(), [r[k] for r in board.lifecycle]) for k in keys],
            ),
            note=(
                "New: active, customer since this period. Returning: active in this and the "
                "previous period. Resurrecting: active now, not in the previous period. "
                "Dormant: active in the previous period, not in this one."
            ),
        )
    )
    panels.append(
        Panel(
            "activation",
            "Activation rate",
            ["Customer since", "Customers", "Activated", "Rate"],
            [[r["start"], r["customers"], r["activated"], r["rate"]] for r in board.activation],
            charts.line_chart(
                title="Share of new customers active within the onboarding days",
                labels=labels,
                series=[("Activation rate", [r["rate"] for r in board.activation])],
                fmt=_pct,
            ),
        )
    )
    rates = board.status["rates"]
    panels.append(
        Panel(
            "rates",
            "Reactivation and churn",
            ["Period", "Churned", "Churn rate", "Reactivated", "Reactivation rate"],
            [
                [
                    r["start"],
                    r["churned"],
                    r["churn_rate"],
                    r["reactivated"],
                    r["reactivation_rate"],
                ]
                for r in rates
            ],
            charts.line_chart(
                title="Churn and reactivation rates",
                labels=labels,
                series=[
                    ("Churn rate", [r["churn_rate"] for r in rates]),
                    ("Reactivation rate", [r["reactivation_rate"] for r in rates]),
                ],
                fmt=_pct,
            ),
            note=(
                "Churn: turned churned / not churned at the start. Reactivation: turned active "
                "from at risk, inactive or churned / those at the start."
            ),
        )
    )
    panels.append(
        Panel(
            "mrr",
            "MRR",
            ["Period", "MRR"],
            [[r["start"], r["mrr"]] for r in board.mrr],
            charts.line_chart(
                title="Monthly recurring revenue at the end of each period",
                labels=labels,
                series=[("MRR", [r["mrr"] for r in board.mrr])],
                fmt=_money,
            ),
        )
    )
    panels.append(
        Panel(
            "revenue",
            "Revenue",
            ["Period", "Purchases", "Refunds", "Net revenue"],
            [[r["start"], r["purchases"], r["refunds"], r["revenue"]] for r in board.revenue],
            charts.bar_chart(
                title="Net revenue (purchases - refunds)",
                labels=labels,
                values=[max(r["revenue"], 0) for r in board.revenue],
                fmt=_money,
            ),
        )
    )
    width = max((len(c["retention"]) for c in board.cohorts), default=0)
    panels.append(
        Panel(
            "cohorts",
            "Cohort retention",
            ["Cohort", "Customers", *[f"M+{n}" for n in range(width)]],
            [
                [c["cohort"], c["size"], *c["retention"], *[""] * (width - len(c["retention"]))]
                for c in board.cohorts
            ],
            charts.heat_grid(
                title="Share of each customer_since cohort active N months later",
                row_labels=[f"{_label(c['cohort'], 'month')} ({c['size']})" for c in board.cohorts],
                col_labels=[f"M+{n}" for n in range(width)],
                cells=[c["retention"] for c in board.cohorts],
                fmt=_pct0,
            ),
        )
    )
    comparison = board.comparison
    metric_names = [
        ("customers", "Customers", _plain),
        ("avg_score", "Engagement score (avg)", _plain),
        ("revenue", "Revenue in period", _money),
        ("revenue_share", "Revenue share", _pct),
        ("clv", "Lifetime value per customer", _money),
        ("predicted_clv", "Predicted 365-day CLV per customer", _money),
        ("interactions_per_customer", "Interactions per customer", _plain),
        ("mrr", "MRR", _money),
    ]
    panels.append(
        Panel(
            "comparison",
            "Active versus non-active customers",
            ["Figure", "Active", "Non-active"],
            [[label, *[g[key] for g in comparison]] for key, label, _f in metric_names],
            charts.stacked_bar_chart(
                title="Revenue share and customers: active versus non-active",
                labels=["Customers", "Revenue share"],
                series=[
                    (
                        "Active" if g["group"] == "active" else "Non-active",
                        [
                            _share(g["customers"], sum(x["customers"] for x in comparison)),
                            g["revenue_share"] or 0,
                        ],
                    )
                    for g in comparison
                ],
                fmt=_pct,
                width=320,
            ),
            display_rows=[
                [label, *[fmt(g[key]) for g in comparison]] for key, label, fmt in metric_names
            ],
            note=(
                f"Active: customer activity within the active days before "
                f"{board.period.end:%d %b %Y}. Lifetime value: net revenue to that day "
                "per customer. Predicted CLV: the stored predictions (the model in use), "
                "per customer of the group."
            ),
            side_table=True,
        )
    )
    return panels


def _outcome_panel(as_of: dt.date) -> Panel:
    """ "Does it work?": per rule, playbook and campaign, treatment against its held-out
    control group (engagement.workflow.outcomes), as of the period's last day."""
    named = outcome_rows(as_of=as_of)
    rows = []
    for kind, name, row in named:
        t, c = row["treatment"], row["control"]
        rows.append(
            [
                f"{kind.capitalize()}: {name}",
                row["window_days"],
                t["n"],
                c["n"],
                t["converted"],
                c["converted"],
                *_interval(row["conversion_uplift"]),
                t["purchased"],
                c["purchased"],
                *_interval(row["purchase_uplift"]),
                t["revenue"],
                c["revenue"],
                *_interval(row["revenue_uplift"]),
            ]
        )
    points = [
        (
            label[0],
            *[
                None if v is None else round(v * 100, 1)
                for v in _interval(n.row["conversion_uplift"])
            ],
        )
        for label, n in zip(rows, named, strict=True)
    ]
    return Panel(
        "outcomes",
        "Does it work?",
        [
            "Rule, playbook or campaign",
            "Window (days)",
            "Treatment n",
            "Control n",
            "Treatment conversion",
            "Control conversion",
            "Conversion uplift",
            "low",
            "high",
            "Treatment purchase rate",
            "Control purchase rate",
            "Purchase uplift",
            "low",
            "high",
            "Treatment mean revenue",
            "Control mean revenue",
            "Revenue uplift",
            "low",
            "high",
        ],
        rows,
        charts.interval_chart(
            title="Conversion uplift: treatment minus control, percentage points, 95% interval",
            rows=points,
            fmt=lambda v: f"{v:+g}" if v else "0",
            width=900,
        ),
        note=(
            f"Alerts (and campaign members) whose outcome window ended by {as_of:%d %b %Y}, all "
            "customers. Green: converts more than its held-out control group (interval above "
            "zero); grey: no difference shown; red: converts less. Rates are fractions in the "
            "numbers; see README, \"Reading 'Does it work?'\"."
        ),
        wide=True,
    )


def _interval(uplift: dict | None) -> list:
    if uplift is None:
        return [None, None, None]
    return [uplift["value"], uplift["low"], uplift["high"]]


def _prediction_panels(board: Dashboard) -> list[Panel]:
    """Predicted 365-day CLV by status and by type, and the value at risk by owner."""
    value = board.prediction
    model = value["model"]
    if model is None:
        source = "No prediction model fitted yet (the nightly recompute fits one)."
    elif not model.fitted:
        source = f"The model is not fitted: {model.message}."
    else:
        source = (
            f"Stored predictions; model fitted as of {model.as_of:%d %b %Y} on "
            f"{model.customers:,} buyers. {value['predicted']:,} customers predicted."
        )
    panels = []
    for key, title, labels in (
        ("status", "Predicted 365-day CLV by status", STATUS_LABELS),
        ("type", "Predicted 365-day CLV by type", TYPE_LABELS),
    ):
        groups = value[f"by_{key}"]
        rows = [[labels[code], g["customers"], g["predicted_clv"]] for code, g in groups.items()]
        panels.append(
            Panel(
                f"predicted-clv-{key}",
                title,
                [key.capitalize(), "Customers", "Predicted CLV"],
                rows,
                charts.bar_chart(
                    title=title,
                    labels=[r[0] for r in rows],
                    values=[float(r[2]) for r in rows],
                    fmt=_money,
                    height=200,
                ),
                note=source
                + (" A customer may hold several types." if key == "type" else "")
                + f" Total {value['total']:,.2f}.",
            )
        )
    owners = board.value_at_risk
    rows = [[r["owner"] or "No owner", r["customers"], r["predicted_clv"]] for r in owners]
    at_risk = value["at_risk"]
    panels.append(
        Panel(
            "value-at-risk",
            "Value at risk by owner",
            ["Owner", "Customers", "Predicted CLV at risk"],
            rows,
            charts.bar_chart(
                title="Predicted 365-day CLV of customers with P(alive) below 0.5, by owner",
                labels=[r[0] for r in rows],
                values=[float(r[2]) for r in rows],
                fmt=_money,
                height=200,
            ),
            note=(
                f"Customers whose P(alive) is below {AT_RISK_P_ALIVE}: "
                f"{at_risk['customers']:,}, with a predicted 365-day CLV of "
                f"{at_risk['predicted_clv']:,.2f} together. {source}"
            ),
        )
    )
    return panels


def _share(part, whole):
    return round(part / whole, 4) if whole else 0


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


# --- views -------------------------------------------------------------------------------------


def dashboard_view(request):
    if not permissions.can_read(request.user):
        raise PermissionDenied
    period, segment, selected = _selection(request)
    board = dashboard(period=period, segment=segment)
    panels = [*_panels(board), _outcome_panel(period.end)]
    query = {k: v for k, v in selected.items() if v}
    for panel in panels:
        panel.csv_url = f"?{urlencode({**query, 'csv': panel.id})}"
    wanted = request.GET.get("csv")
    if wanted:
        panel = next((p for p in panels if p.id == wanted), None)
        if panel is None:
            raise Http404("No such panel.")
        return _csv_response(panel, period)
    context = {
        **admin.site.each_context(request),
        "title": "Engagement dashboard",
        "panels": panels,
        "selected": selected,
        "choices": _choices(),
        "period": period,
        "time_zone": timezone.get_current_timezone_name(),
        "refresh": board.refresh,
    }
    return TemplateResponse(request, "admin/engagement/dashboard.html", context)


def _csv_response(panel: Panel, period) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"{panel.id}-{period.unit}-{period.start}-{period.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(panel.columns)
    for row in panel.rows:
        writer.writerow([_cell(v) for v in row])
    return response


def pages(site) -> list:
    """The engagement pages that belong to no model, mounted under /admin/engagement/."""
    return [
        path("dashboard/", site.admin_view(dashboard_view), name="crm_dashboard"),
        path(
            "customer/<int:pk>/timeline/",
            site.admin_view(timeline_view),
            name="crm_customer_timeline",
        ),
    ]
