"""Does a playbook work? Outcomes of held-out alerts (and campaigns), measured set-based.

The unit of measurement is an **exposure**: a customer, the day it started (an alert's
`fired_on`, a campaign's `started_on`), its window in days, its arm and a group key (the
rule, the campaign). `measure` reads any source of exposures in one SQL statement and
answers additive totals per group and arm; `outcome_row` turns a group's totals into the
row of `GET /api/metrics/outcomes/` with its uplifts (engagement.workflow.outcome_stats).

The outcome of an exposure started on day F with window W (docs/definitions.md,
"Outcomes"), counted only once it has matured (F + W <= as_of):

- `converted`: the status in effect on the window's first day (F + 1) was `active`, or the
  status history moved to `active` on a day from F + 1 to F + W, or the stored result says
  `active` as of a day inside the window. The history only records changes, so this is "the
  customer stood `active` on some day of the window", a status carried into it included.
- `purchased`: a purchase with a local date (TIME_ZONE) from F + 1 to F + W.
- `revenue`: purchases minus refunds with local dates inside the window (0 when none).

Per arm the totals are n, converted and purchased counts, and the sum and sum of squares
of revenue: all additive, so a playbook's totals are the sum of its rules' (one query for
both), and the sample variance of revenue follows without a second pass.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from customers import kinds
from customers.models import Interaction
from engagement.models.results import EngagementResult, Status, StatusHistory
from engagement.models.workflow import Alert, AlertRule, Arm, Playbook

from .outcome_stats import mean_uplift, rate_uplift

CENT = Decimal("0.01")
RATE_DIGITS = 4


@dataclass(frozen=True)
class Exposures:
    """A SQL source of exposures: a SELECT answering, in this order, a unique id of the
    exposure (the alert's, the campaign member's), the customer id, the start day, the
    window in days, the arm and the group key (one row per exposure)."""

    sql: str
    params: tuple

    @classmethod
    def from_queryset(cls, queryset: QuerySet) -> Exposures:
        """From a `values_list(id, customer, start day, window days, arm, group key)`."""
        sql, params = queryset.order_by().query.get_compiler(using=queryset.db).as_sql()
        return cls(sql, tuple(params))


@dataclass
class ArmTotals:
    """Additive figures of one arm of one group."""

    n: int = 0
    converted: int = 0
    purchased: int = 0
    revenue_sum: Decimal = Decimal(0)
    revenue_sumsq: Decimal = Decimal(0)

    def __add__(self, other: ArmTotals) -> ArmTotals:
        return ArmTotals(
            self.n + other.n,
            self.converted + other.converted,
            self.purchased + other.purchased,
            self.revenue_sum + other.revenue_sum,
            self.revenue_sumsq + other.revenue_sumsq,
        )

    @property
    def revenue_mean(self) -> Decimal | None:
        return self.revenue_sum / self.n if self.n else None

    @property
    def revenue_variance(self) -> float | None:
        """Sample variance (n - 1) of revenue per unit."""
        if self.n < 2:
            return None
        squares = self.revenue_sumsq - self.revenue_sum * self.revenue_sum / self.n
        return max(0.0, float(squares) / (self.n - 1))


Totals = dict[str, ArmTotals]  # arm -> totals


def _add_days(day_sql: str, days_sql: str) -> str:
    if connection.vendor == "postgresql":
        return f"({day_sql} + {days_sql})"
    return f"date({day_sql}, ({days_sql}) || ' days')"


def _money(value) -> Decimal:
    # SQLite answers floats: back to the cents they were.
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(repr(value))


def measure(exposures: Exposures, *, as_of: dt.date) -> dict[object, Totals]:
    """Totals per group key and arm over the exposures matured as of `as_of`: one query.

    Joins, not a subquery per exposure: the moves to active, the stored results and the
    money inside each window are each one grouped join; only the status carried into a
    window is looked up per exposure (one index probe, and only when nothing else converted
    it).
    """
    local_day, day_params = connection.ops.datetime_cast_date_sql(
        "i.occurred_at", (), timezone.get_current_timezone_name()
    )
    history = StatusHistory._meta.db_table
    results = EngagementResult._meta.db_table
    interactions = Interaction._meta.db_table
    end_day = _add_days("e.start_day", "e.window_days")
    active, purchase, refund = Status.ACTIVE.value, kinds.PURCHASE, kinds.REFUND
    sql = f"""
        WITH e (unit, customer_id, start_day, window_days, arm, group_key) AS ({exposures.sql}),
        m AS (
            SELECT e.unit, e.customer_id, e.start_day, {_add_days("e.start_day", "1")} AS first_day,
                   {end_day} AS end_day, e.arm, e.group_key
            FROM e WHERE {end_day} <= %s
        ),
        moved AS (
            SELECT DISTINCT m.unit FROM m JOIN {history} h ON h.customer_id = m.customer_id
            WHERE h.to_status = '{active}' AND h.as_of > m.start_day AND h.as_of <= m.end_day
        ),
        stored AS (
            SELECT m.unit FROM m JOIN {results} r ON r.customer_id = m.customer_id
            WHERE r.status = '{active}' AND r.as_of > m.start_day AND r.as_of <= m.end_day
        ),
        money AS (
            SELECT m.unit,
                   MAX(CASE WHEN i.kind = '{purchase}' THEN 1 ELSE 0 END) AS purchased,
                   SUM(CASE WHEN i.kind = '{purchase}' THEN i.amount ELSE -i.amount END)
                       AS revenue
            FROM m JOIN {interactions} i ON i.customer_id = m.customer_id
            WHERE i.kind IN ('{purchase}', '{refund}')
              -- a bound the (kind, occurred_at) index can use; a window's first local day
              -- starts after its UTC start day, whatever the zone
              AND i.occurred_at >= (SELECT MIN(start_day) FROM m)
              AND {local_day} > m.start_day AND {local_day} <= m.end_day
            GROUP BY m.unit
        ),
        u AS (
            SELECT m.group_key, m.arm,
                CASE WHEN moved.unit IS NOT NULL OR stored.unit IS NOT NULL
                    OR (SELECT h.to_status FROM {history} h
                        WHERE h.customer_id = m.customer_id AND h.as_of <= m.first_day
                        ORDER BY h.as_of DESC, h.id DESC LIMIT 1) = '{active}'
                THEN 1 ELSE 0 END AS converted,
                COALESCE(money.purchased, 0) AS purchased,
                COALESCE(money.revenue, 0) AS revenue
            FROM m
            LEFT JOIN moved ON moved.unit = m.unit
            LEFT JOIN stored ON stored.unit = m.unit
            LEFT JOIN money ON money.unit = m.unit
        )
        SELECT group_key, arm, COUNT(*), SUM(converted), SUM(purchased),
               SUM(revenue), SUM(revenue * revenue)
        FROM u GROUP BY group_key, arm
    """
    params = [*exposures.params, as_of, *day_params, *day_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    totals: dict[object, Totals] = defaultdict(dict)
    for key, arm, n, converted, purchased, revenue, squares in rows:
        totals[key][arm] = ArmTotals(
            int(n), int(converted), int(purchased), _money(revenue), _money(squares)
        )
    return dict(totals)


def _rate(count: int, n: int) -> float | None:
    return round(count / n, RATE_DIGITS) if n else None


def _cents(value) -> Decimal:
    return Decimal(repr(value) if isinstance(value, float) else value).quantize(
        CENT, rounding=ROUND_HALF_UP
    )


def _arm(totals: ArmTotals) -> dict:
    mean = totals.revenue_mean
    return {
        "n": totals.n,
        "converted": _rate(totals.converted, totals.n),
        "purchased": _rate(totals.purchased, totals.n),
        "revenue": None if mean is None else _cents(mean),
    }


def _rounded(uplift: dict | None, fmt) -> dict | None:
    return None if uplift is None else {k: fmt(v) for k, v in uplift.items()}


def outcome_row(
    totals: Totals,
    *,
    window_days: int | None,
    rule: int | None = None,
    playbook: int | None = None,
    campaign: int | None = None,
) -> dict:
    """One row of the outcomes API: per-arm figures and the three uplifts (None: too few).

    Rates are fractions rounded to 4 digits; money (mean revenue and its uplift) is a
    Decimal in cents, which the API sends as a string like every amount.
    """
    t, c = totals.get(Arm.TREATMENT, ArmTotals()), totals.get(Arm.CONTROL, ArmTotals())

    def rate(field):
        uplift = rate_uplift(
            treatment_successes=getattr(t, field),
            treatment_n=t.n,
            control_successes=getattr(c, field),
            control_n=c.n,
        )
        return _rounded(uplift, lambda v: round(v, RATE_DIGITS))

    revenue = None
    if t.n >= 2 and c.n >= 2:
        revenue = mean_uplift(
            treatment_n=t.n,
            treatment_mean=float(t.revenue_mean),
            treatment_variance=t.revenue_variance,
            control_n=c.n,
            control_mean=float(c.revenue_mean),
            control_variance=c.revenue_variance,
        )
    return {
        "rule": rule,
        "playbook": playbook,
        "campaign": campaign,
        "window_days": window_days,
        "treatment": _arm(t),
        "control": _arm(c),
        "conversion_uplift": rate("converted"),
        "purchase_uplift": rate("purchased"),
        "revenue_uplift": _rounded(revenue, _cents),
    }


def _sum(parts: list[Totals]) -> Totals:
    out: Totals = {}
    for part in parts:
        for arm, figures in part.items():
            out[arm] = out.get(arm, ArmTotals()) + figures
    return out


def alert_exposures(rules: QuerySet[AlertRule]) -> Exposures:
    """Every alert of `rules`, keyed by rule, with its rule's outcome window."""
    alerts = Alert.objects.filter(rule__in=rules).values_list(
        "pk", "customer_id", "fired_on", "rule__outcome_window_days", "arm", "rule_id"
    )
    return Exposures.from_queryset(alerts)


class Named(NamedTuple):
    """An outcome row with what it measures, for the faces that show names."""

    kind: str  # "rule", "playbook" or "campaign"
    name: str
    row: dict


def alert_outcome_rows(
    *,
    as_of: dt.date,
    rule: int | None = None,
    playbook: int | None = None,
) -> list[Named]:
    """Rows per rule and per playbook (alerts of the rules that have it as their playbook).

    A rule's or playbook's row appears once it has a matured alert; the one asked for by
    `rule` / `playbook` appears regardless (n = 0).
    With `rule` only that rule's row; with `playbook` that playbook's row and its rules'.
    Two queries whatever the number of alerts.
    """
    rules = AlertRule.objects.all()
    if rule is not None:
        rules = rules.filter(pk=rule)
    if playbook is not None:
        rules = rules.filter(playbook_id=playbook)
    found = {
        r.pk: r
        for r in rules.select_related("playbook").only(
            "pk", "name", "outcome_window_days", "playbook__name"
        )
    }
    measured = measure(alert_exposures(rules), as_of=as_of) if found else {}
    rows, by_playbook, names = [], defaultdict(list), {}
    for pk, r in sorted(found.items(), key=lambda item: (item[1].name, item[0])):
        totals = measured.get(pk)
        if r.playbook_id is not None:
            by_playbook[r.playbook_id].append((r, totals or {}))
            names[r.playbook_id] = r.playbook.name
        if totals or pk == rule:
            row = outcome_row(
                totals or {}, window_days=r.outcome_window_days, rule=pk, playbook=r.playbook_id
            )
            rows.append(Named("rule", r.name, row))
    if rule is not None:
        return rows
    if playbook is not None and playbook not in names:  # asked for, and no rule has it
        names.update(Playbook.objects.filter(pk=playbook).values_list("pk", "name"))
    for pk in sorted(names, key=lambda p: (names[p], p)):
        members = by_playbook.get(pk, [])
        totals = _sum([t for _, t in members])
        if totals or pk == playbook:
            windows = {r.outcome_window_days for r, _ in members}
            row = outcome_row(
                totals, window_days=windows.pop() if len(windows) == 1 else None, playbook=pk
            )
            rows.append(Named("playbook", names[pk], row))
    return rows


def campaign_outcome_rows(
    *, as_of: dt.date, playbook: int | None = None, campaign: int | None = None
) -> list[Named]:
    """Rows per campaign: `measure` over the campaign members (member id, customer, the
    campaign's start day and window, the member's arm, the campaign as group key), then
    `outcome_row(totals, window_days=..., playbook=..., campaign=...)`, named by campaign.

    The campaigns part of the workflow provides its members; until it does there are none.
    """
    return []


def outcome_rows(
    *,
    as_of: dt.date | None = None,
    rule: int | None = None,
    playbook: int | None = None,
    campaign: int | None = None,
) -> list[Named]:
    """The outcomes as of `as_of` (default today): rules, then playbooks, then campaigns.

    Filters narrow the rows by their own fields: `rule` keeps that rule's row, `playbook`
    the rows whose playbook it is (itself, its rules, its campaigns), `campaign` that
    campaign's row. Rows without a matured unit are left out unless asked for by id.
    """
    as_of = as_of or timezone.localdate()
    rows = []
    if campaign is None:
        rows += alert_outcome_rows(as_of=as_of, rule=rule, playbook=playbook)
    if rule is None:
        rows += campaign_outcome_rows(as_of=as_of, playbook=playbook, campaign=campaign)
    return rows


def outcomes_report(
    *,
    as_of: dt.date | None = None,
    rule: int | None = None,
    playbook: int | None = None,
    campaign: int | None = None,
) -> list[dict]:
    """The rows of `GET /api/metrics/outcomes/` (`outcome_rows` without the names)."""
    named = outcome_rows(as_of=as_of, rule=rule, playbook=playbook, campaign=campaign)
    return [n.row for n in named]


def rule_outcome(*, rule: AlertRule, as_of: dt.date | None = None) -> dict:
    """The outcome row of one rule (its admin page)."""
    as_of = as_of or timezone.localdate()
    return alert_outcome_rows(as_of=as_of, rule=rule.pk)[0].row


def playbook_outcome(*, playbook: Playbook, as_of: dt.date | None = None) -> dict:
    """The outcome row of one playbook over its rules' alerts (its admin page)."""
    as_of = as_of or timezone.localdate()
    rows = alert_outcome_rows(as_of=as_of, playbook=playbook.pk)
    return next(n.row for n in rows if n.kind == "playbook")
