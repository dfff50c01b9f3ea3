"""python manage.py seed_demo [--customers N] [--seed S] [--if-empty | --append] [--host H:P]

Makes the demo users, then calls engagement.workflow.demo.demo_load: the customers data
from customers.demo, brought to life (recompute, alert evaluation, metric rollups).
"""

import io

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from customers.demo import DEMO_USERS
from customers.models import Customer
from engagement.models.results import EngagementResult, Status
from engagement.workflow.demo import ROLLUP_LIMIT, demo_figures, demo_load
from engagement.workflow.plans import default_success_user
from engagement.workflow.selectors import MY_WORK_ROWS, my_work


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
        parser.add_argument(
            "--host",
            default="127.0.0.1:8000",
            help="the address the server listens on, printed with the logins (default "
            "127.0.0.1:8000; `make run HOST=...` passes its own)",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--if-empty", action="store_true", help="only seed a database without customers"
        )
        mode.add_argument(
            "--append", action="store_true", help="add demo customers to a non-empty database"
        )

    def handle(self, *args, customers, seed, if_empty, append, host, verbosity, **options):
        self.admin_url = _admin_url(host)
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
            report = demo_load(
                customers=customers,
                seed=seed,
                owners=[users["rep"], users["rep2"]],
                author=users["success"],
                progress=self._progress,
                say=self._say,
                note=self._note,
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        if report.refresh is None:
            self._say(
                f"Dashboard rollups not built for more than {ROLLUP_LIMIT:,} customers (minutes "
                "on SQLite): run `python manage.py refresh_metrics`; until then the dashboard "
                "computes its figures live."
            )
        else:
            self._say(f"Dashboard rollups built ({report.refresh.seconds:.1f}s).")
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

    def _summary(self, success):
        out = self.stdout.write
        figures = demo_figures()
        out("Customers by status:")
        for status in Status:
            out(f"  {status.label:<12} {figures['by_status'].get(status.value, 0):>8,}")
        out(f"  (reactivated {figures['reactivated']:,})")
        out("Customers by type:")
        for code in EngagementResult.TYPE_FIELDS:
            out(f"  {code:<20} {figures['by_type'][code]:>8,}")
        severities = figures["open_alerts"]
        out(
            f"Open alerts: {sum(severities.values()):,} ("
            + ", ".join(f"{n:,} {severity}" for severity, n in sorted(severities.items()))
            + f"); active action plans: {figures['active_plans']:,}."
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
        self.stdout.write(f"Demo logins ({self.admin_url}):")
        for username, role, password, _ in DEMO_USERS:
            self.stdout.write(f"  {username:<8} / {password:<13} {role}")
        self.stdout.write("  (a user that existed before keeps the password it had)")

    def _say(self, text):
        if not self.quiet:
            self.stdout.write(text)

    def _note(self, text):
        if not self.quiet:
            self.stderr.write(f"{text}...", style_func=str)

    def _progress(self, label, done, total):
        if self.quiet:
            return
        line = f"\r{label}: {100 * done // max(total, 1)}% ({done:,}/{total:,})"
        self.stderr.write(line, ending="\n" if done >= total else "", style_func=str)
        self.stderr.flush()


def _admin_url(host: str) -> str:
    """The admin's address for runserver's `addrport` (`8031` alone means 127.0.0.1:8031)."""
    host = host.strip() or "127.0.0.1:8000"
    if host.isdigit():
        host = f"127.0.0.1:{host}"
    return f"http://{host}/admin/"


def _count(page: list) -> str:
    return f"{len(page)}+" if len(page) >= MY_WORK_ROWS else str(len(page))
