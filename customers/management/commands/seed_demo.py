"""python manage.py seed_demo [--customers N] [--seed S] [--if-empty | --append]

The customers data comes from customers.demo (which, being in the customers domain, knows
nothing of engagement); this command, a face, then runs the engagement services on it:
recompute, alert evaluation, metric rollups.
"""

import datetime as dt
import io

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count
from django.utils import timezone

from crm import db
from customers.demo import DEMO_USERS, demo_seed
from customers.demo.archetypes import LOOKBACK_DAYS
from customers.models import Customer
from engagement.metrics_rollup import metrics_refresh
from engagement.models.results import EngagementResult, Status, StatusHistory, TypeChange
from engagement.models.workflow import ActionPlan, Alert, AlertRule
from engagement.selectors_workflow import my_work
from engagement.services.alerts import alerts_evaluate
from engagement.services.plans import default_success_user
from engagement.services.recompute import engagement_recompute

# The rollups take about 100 s per million interactions on SQLite: past this base size the
# command leaves them to `refresh_metrics` (the dashboard computes live until then).
ROLLUP_LIMIT = 20_000
HISTORY_MONTHS = 12


class Command(BaseCommand):
    help = (
        "Load demo data: one user per role (admin, rep, rep2, success; printed with their "
        "passwords), N customers with contacts, subscriptions and 18 months of interactions, "
        "then recompute engagement, evaluate the alert rules (alerts and action plans) and "
        f"build the dashboard rollups (up to {ROLLUP_LIMIT:,} customers; beyond, run "
        "refresh_metrics). The same --seed gives the same data (dates relative to "
        "today). A database that already has customers is refused unless --if-empty (load "
        "nothing, only make sure the demo users exist and print the logins) or --append (add "
        "N demo customers beside the existing ones; use a --seed not loaded before)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=2_000, help="default 2,000")
        parser.add_argument("--seed", type=int, default=42, help="default 42")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--if-empty", action="store_true", help="only seed a database without customers"
        )
        mode.add_argument(
            "--append", action="store_true", help="add demo customers to a non-empty database"
        )

    def handle(self, *args, customers, seed, if_empty, append, verbosity, **options):
        if customers < 1:
            raise CommandError("--customers: load at least one customer.")
        self.quiet = verbosity < 1
        existing = Customer.objects.count()
        if existing and not (if_empty or append):
            raise CommandError(
                f"The database already has {existing:,} customers. Use --append to add demo "
                "customers beside them, or --if-empty to leave them alone."
            )
        users = self._users()
        if existing and if_empty:
            self.stdout.write(f"{existing:,} customers already present: no demo data loaded.")
            self._logins()
            return
        try:
            loaded = demo_seed(
                customers=customers,
                seed=seed,
                owners=[users["rep"], users["rep2"]],
                author=users["success"],
                progress=self._progress("customers"),
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self._say(
            f"Loaded {loaded.customers:,} customers ({loaded.companies:,} companies, "
            f"{loaded.customers - loaded.companies:,} people, {loaded.archived:,} archived), "
            f"{loaded.contacts:,} contacts, {loaded.subscriptions:,} subscriptions and "
            f"{loaded.interactions:,} interactions in {loaded.seconds:.1f}s."
        )
        self._bring_to_life(loaded)
        if not self.quiet:
            self._summary(users["success"])
        self._logins()

    def _users(self) -> dict:
        """The demo users, made with create_crm_user when missing; existing ones are left
        as they are (passwords included)."""
        User = get_user_model()
        for username, role, password, email in DEMO_USERS:
            if not User.objects.filter(username=username).exists():
                call_command(
                    "create_crm_user",
                    username,
                    role=role,
                    password=password,
                    email=email,
                    stdout=io.StringIO() if self.quiet else self.stdout,
                )
        return {u.username: u for u in User.objects.filter(username__in=[u[0] for u in DEMO_USERS])}

    def _bring_to_life(self, loaded):
        """Engagement as of LOOKBACK_DAYS ago (for the customers of then), then as of today,
        so that the demo opens with the last days' status moves; the alert rules fire on
        them (alerts, action plans), and the dashboard rollups follow."""
        today = timezone.localdate()
        if len(loaded.ids) <= ROLLUP_LIMIT:
            # Month by month over the last year first, so the status history (and the
            # dashboard's status-over-time, churn and reactivation panels) has a past.
            for months_ago in range(HISTORY_MONTHS, 0, -1):
                day = _months_before(today, months_ago)
                days_ago = (today - day).days
                engagement_recompute(
                    as_of=day,
                    customer_ids=loaded.ids_joined_before(days_ago),
                    progress=self._progress(f"engagement as of {day}"),
                )
        engagement_recompute(
            as_of=today - dt.timedelta(days=LOOKBACK_DAYS),
            customer_ids=loaded.ids_joined_before(LOOKBACK_DAYS),
            progress=self._progress(f"engagement {LOOKBACK_DAYS} days ago"),
        )
        moves_from = timezone.now()
        summary = engagement_recompute(progress=self._progress("engagement today"))
        self._note("evaluating the alert rules")
        fired = alerts_evaluate(since=moves_from)["alerts"]
        # Cancellations are read from the subscriptions' own timestamps (the last day's).
        fired += alerts_evaluate(triggers=[AlertRule.Trigger.SUBSCRIPTION_CANCELLED])["alerts"]
        self._say(
            f"Engagement of {summary.customers:,} customers as of {summary.as_of} "
            f"({summary.seconds:.1f}s); {fired:,} alerts fired."
        )
        if summary.customers > ROLLUP_LIMIT:
            self._say(
                f"Dashboard rollups not built for more than {ROLLUP_LIMIT:,} customers (minutes "
                "on SQLite): run `python manage.py refresh_metrics`; until then the dashboard "
                "computes its figures live."
            )
            return
        # The recomputes just filled the engagement tables: statistics before the rollups.
        db.analyze(EngagementResult, StatusHistory, TypeChange)
        self._note("building the dashboard rollups")
        refresh = metrics_refresh()
        self._say(f"Dashboard rollups built ({refresh.seconds:.1f}s).")

    def _summary(self, success):
        out = self.stdout.write
        results = EngagementResult.objects.order_by()
        by_status = dict(results.values_list("status").annotate(n=Count("pk")))
        out("Customers by status:")
        for status in Status:
            out(f"  {status.label:<12} {by_status.get(status.value, 0):>8,}")
        out(f"  (reactivated {results.filter(reactivated=True).count():,})")
        out("Customers by type:")
        for code, column in EngagementResult.TYPE_FIELDS.items():
            count = results.filter(**{column: True}).count()
            out(f"  {code:<20} {count:>8,}")
        alerts = Alert.objects.filter(status=Alert.AlertStatus.OPEN).order_by()
        severities = dict(alerts.values_list("severity").annotate(n=Count("pk")))
        plans = ActionPlan.objects.filter(status=ActionPlan.PlanStatus.ACTIVE).count()
        out(
            f"Open alerts: {sum(severities.values()):,} ("
            + ", ".join(f"{n:,} {severity}" for severity, n in sorted(severities.items()))
            + f"); active action plans: {plans:,}."
        )
        if success is not None:
            my_alerts, my_steps = my_work(user=success, today=timezone.localdate())
            out(
                f"My work of {success.username}: {_count(my_alerts)} open alerts, "
                f"{_count(my_steps)} steps due within a week."
            )
            first = default_success_user()
            if first is not None and first.pk != success.pk:
                out(
                    f"Note: unowned work goes to {first.username!r}, the first customer "
                    "success user, not to the demo user."
                )

    def _logins(self):
        self.stdout.write("Demo logins (http://127.0.0.1:8000/admin/):")
        for username, role, password, _ in DEMO_USERS:
            self.stdout.write(f"  {username:<8} / {password:<13} {role}")
        self.stdout.write("  (a user that existed before keeps the password it had)")

    def _say(self, text):
        if not self.quiet:
            self.stdout.write(text)

    def _note(self, text):
        if not self.quiet:
            self.stderr.write(f"{text}...", style_func=str)

    def _progress(self, label):
        def report(done, total):
            if self.quiet:
                return
            line = f"\r{label}: {100 * done // max(total, 1)}% ({done:,}/{total:,})"
            self.stderr.write(line, ending="\n" if done >= total else "", style_func=str)
            self.stderr.flush()

        return report


def _count(page: list) -> str:
    """My work shows at most 200 rows of each kind."""
    return f"{len(page)}+" if len(page) >= 200 else str(len(page))


def _months_before(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` calendar months before `day`'s month."""
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)
