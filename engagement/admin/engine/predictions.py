"""Every fit of the prediction models, read-only (written by
engagement.engine.prediction_service): parameters, log-likelihood, convergence, why not."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from engagement.admin.base import ComputedRecordAdmin
from engagement.models.predictions import PredictionFit


@admin.register(PredictionFit)
class PredictionFitAdmin(ComputedRecordAdmin):
    list_display = [
        "as_of",
        "fitted_at",
        "customers",
        "repeaters",
        "converged",
        "bg_nbd",
        "gamma_gamma",
        "log_likelihood",
        "message",
    ]
    list_display_links = ["as_of"]
    list_filter = ["converged", "as_of"]
    readonly_fields = [f.name for f in PredictionFit._meta.fields]

    @admin.display(description=_("BG/NBD (r, alpha days, a, b)"))
    def bg_nbd(self, fit):
        if not fit.fitted:
            return "-"
        return f"{fit.r:.4g}, {fit.alpha:.4g}, {fit.a:.4g}, {fit.b:.4g}"

    @admin.display(description=_("Gamma-Gamma (p, q, gamma)"))
    def gamma_gamma(self, fit):
        if not fit.fitted:
            return "-"
        return f"{fit.p:.4g}, {fit.q:.4g}, {fit.gamma:.4g}"
