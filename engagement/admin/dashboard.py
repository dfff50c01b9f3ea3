"""The engagement dashboard and the customer timeline: admin pages (mounted by crm/urls.py).

Both follow django/contrib/auth/admin.py: `admin.site.admin_view` guards them, the view
asks crm.permissions, and renders a TemplateResponse with the admin's context. The figures
come from engagement.metrics; this module only turns them into panels (a chart, its
numbers as a table, and a CSV of the same numbers).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode

from crm import permissions
from crm.params import parse_id
from crm.roles import SALES_REP
from customers.admin.filters import _indexed_distinct_values
from customers.models import Customer, Interaction
from engagement import charts, metrics
from engagement.models import ActionPlan, Alert, EngagementResult, StatusHistory
from engagement.models.results import CustomerType, Status

STATUS_LABELS = dict(Status.choices)
TYPE_LABELS = dict(CustomerType.choices)
FILTER_FIELDS = ("period", "start", "end", "owner", "kind", "country", "industry")


@dataclass
class Panel:
    id: str
    title: str
    columns: list[str]
    rows: list[list]
    chart: str = ""
    note: str = ""
    side_table: bool = False
    csv_url: str = field(default="")


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


def _money(value) -> str:
    return "\u2013" if value is None else f"{value:,.2f}"


# --- the selection: period and segment ---------------------------------------------------------


def _selection(request):
    """The period and segment of the request; bad values fall back to defaults, with a message."""
    params = request.GET
    try:
        period = metrics.Period.parse(
            period=params.get("period") or None,
            start=params.get("start") or None,
            end=params.get("end") or None,
        )
    except ValidationError as error:
        for name, errs in error.message_dict.items():
            messages.error(request, f"{name}: {' '.join(errs)}")
        period = metrics.Period.parse()
    owner = params.get("owner", "")
    if owner == "" and permissions.is_sales_rep(request.user):
        # A rep opens the dashboard on their own accounts; "all" widens it.
        owner = str(request.user.pk)
    owner_id = parse_id(owner)
    segment = metrics.Segment(
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
        "countries": _indexed_distinct_values(Customer, Customer._meta.get_field("country")),
        "industries": _indexed_distinct_values(Customer, Customer._meta.get_field("industry")),
    }


# --- panels ------------------------------------------------------------------------------------


def _panels(board: metrics.Dashboard) -> list[Panel]:
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
        ("customers", "Customers", str),
        ("avg_score", "Engagement score (avg)", str),
        ("revenue", "Revenue in period", _money),
        ("revenue_share", "Revenue share", _pct),
        ("clv", "Lifetime value per customer", _money),
        ("interactions_per_customer", "Interactions per customer", str),
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
            note=(
                f"Active: customer activity within the active days before "
                f"{board.period.end:%d %b %Y}. Lifetime value: net revenue to that day "
                "per customer."
            ),
            side_table=True,
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
    board = metrics.dashboard(period=period, segment=segment)
    panels = _panels(board)
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


TIMELINE_ROWS = 200


def timeline_view(request, pk: int):
    if not permissions.can_read(request.user):
        raise PermissionDenied
    customer = get_object_or_404(Customer.objects.select_related("owner"), pk=pk)
    kind = request.GET.get("kind", "")
    interactions = (
        Interaction.objects.filter(customer=customer)
        .select_related("contact", "created_by")
        .order_by("-occurred_at", "-id")
    )
    if kind in Interaction.Kind.values:
        interactions = interactions.filter(kind=kind)
    history = list(
        StatusHistory.objects.filter(customer=customer)
        .order_by("as_of", "id")
        .values("as_of", "from_status", "to_status")
    )
    today = timezone.localdate()
    can_see_work = permissions.can_view_workflow_of(request.user, customer)
    context = {
        **admin.site.each_context(request),
        "title": f"Timeline of {customer}",
        "customer": customer,
        "kind": kind,
        "kinds": Interaction.Kind.choices,
        "interactions": list(interactions[:TIMELINE_ROWS]),
        "row_limit": TIMELINE_ROWS,
        "history": history,
        "strip": _status_strip(history, customer.customer_since, today),
        "score_trend": _score_trend(customer, today),
        "result": EngagementResult.objects.filter(customer=customer).first(),
        "alerts": list(
            Alert.objects.filter(customer=customer, status__in=["open", "acknowledged"])
            .select_related("rule", "assignee")
            .order_by("-created_at")
        )
        if can_see_work
        else [],
        "plans": list(
            ActionPlan.objects.filter(customer=customer, status=ActionPlan.PlanStatus.ACTIVE)
            .select_related("owner", "playbook")
            .prefetch_related("steps__assignee")
        )
        if can_see_work
        else [],
        "can_see_work": can_see_work,
        "customer_url": reverse("admin:customers_customer_change", args=[customer.pk]),
        "dashboard_url": reverse("crm_dashboard"),
    }
    return TemplateResponse(request, "admin/engagement/timeline.html", context)


STATUS_COLOURS = {
    "new": "#7a4ea3",
    "active": "#3a9a4a",
    "passive": "#1f5f99",
    "at_risk": "#e07b00",
    "inactive": "#b8323a",
    "churned": "#6b6b6b",
}


def _status_strip(history, since: dt.date, today: dt.date) -> str:
    """One coloured band per status the customer held, from the first history row to today."""
    if not history:
        return ""
    from django.utils.html import escape
    from django.utils.safestring import mark_safe

    start = min(history[0]["as_of"], today)
    span = max(1, (today - start).days + 1)
    width, height = 640, 28
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="crm-chart strip" role="img" '
        f'viewBox="0 0 {width} {height + 16}" width="100%" aria-label="Status history">'
        "<title>Status history</title>"
    ]
    for i, row in enumerate(history):
        end = history[i + 1]["as_of"] if i + 1 < len(history) else today + dt.timedelta(days=1)
        x = width * (row["as_of"] - start).days / span
        w = max(1.0, width * (end - row["as_of"]).days / span)
        label = STATUS_LABELS.get(row["to_status"], row["to_status"])
        tip = f"{label} from {row['as_of']:%d %b %Y}"
        parts.append(
            f'<rect class="mark" x="{x:.1f}" y="0" width="{w:.1f}" height="{height}" '
            f'fill="{STATUS_COLOURS.get(row["to_status"], "#999")}">'
            f"<title>{escape(tip)}</title></rect>"
        )
        if w > 40:
            parts.append(
                f'<text x="{x + 3:.1f}" y="{height / 2 + 4}" fill="#fff" font-size="11">'
                f"{escape(label)}</text>"
            )
    parts.append(
        f'<text x="0" y="{height + 13}" font-size="10">{start:%d %b %Y}</text>'
        f'<text x="{width}" y="{height + 13}" font-size="10" text-anchor="end">'
        f"{today:%d %b %Y}</text>"
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # labels escaped


SCORE_POINTS = 12


def _score_trend(customer, today: dt.date):
    """The score at the end of each of the last 12 months, evaluated live (nothing stored)."""
    try:
        from engagement.services.live import engagement_evaluate
    except ImportError:
        return None
    days = []
    month = today.replace(day=1)
    for _ in range(SCORE_POINTS - 1):
        days.append(month - dt.timedelta(days=1))
        month = (month - dt.timedelta(days=1)).replace(day=1)
    days = [*reversed(days), today]
    scores = []
    for day in days:
        result = engagement_evaluate(customer_id=customer.pk, as_of=day)
        score = result.get("score") if isinstance(result, dict) else getattr(result, "score", None)
        scores.append(score)
    chart = charts.line_chart(
        title="Engagement score at each month's end",
        labels=[d.strftime("%b %y") for d in days],
        series=[("Score", scores)],
        height=200,
    )
    return {"chart": chart, "rows": list(zip(days, scores, strict=True))}


urlpatterns = [
    path("dashboard/", admin.site.admin_view(dashboard_view), name="crm_dashboard"),
    path(
        "customer/<int:pk>/timeline/",
        admin.site.admin_view(timeline_view),
        name="crm_customer_timeline",
    ),
]
