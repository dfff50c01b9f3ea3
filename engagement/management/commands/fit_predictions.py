"""python manage.py fit_predictions [--as-of YYYY-MM-DD]: fit the prediction models on the
purchases up to the day, predict every customer, and print the parameters."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from engagement.engine.prediction_service import fit_in_use, predictions_fit


class Command(BaseCommand):
    help = (
        "Fit BG/NBD and Gamma-Gamma on the purchases up to a day, store every customer's "
        "prediction, and print the parameters."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", dest="as_of", help="YYYY-MM-DD (default: today)")

    def handle(self, *args, as_of=None, **options):
        try:
            day = dt.date.fromisoformat(as_of) if as_of else None
        except ValueError:
            raise CommandError("--as-of: enter a date as YYYY-MM-DD") from None
        fit = predictions_fit(as_of=day)
        out = self.stdout.write
        out(
            f"Fit as of {fit.as_of}: {fit.customers:,} customers with a purchase, "
            f"{fit.repeaters:,} with a repeat purchase day ({fit.seconds:.1f}s)."
        )
        if not fit.fitted:
            out(f"Not fitted: {fit.message}. Every prediction is empty and says why.")
            return
        out(
            f"BG/NBD:      r = {fit.r:.4f}, alpha = {fit.alpha:.4f} days, a = {fit.a:.4f}, "
            f"b = {fit.b:.4f} (log-likelihood {fit.log_likelihood:,.2f})"
        )
        out(
            f"Gamma-Gamma: p = {fit.p:.4f}, q = {fit.q:.4f}, gamma = {fit.gamma:.4f} "
            f"(log-likelihood {fit.gamma_gamma_log_likelihood:,.2f})"
        )
        if fit.converged:
            out("Converged; every customer is predicted with this model.")
            return
        in_use = fit_in_use()
        kept = f"the fit as of {in_use.as_of} stays in use" if in_use else "no model in use"
        out(f"Not converged: {fit.message}; {kept}.")
