"""The prediction panel of the customer page (a face; rendered by customers.admin.customer).

prediction_panel_context(customer) answers what the panel shows, in at most two queries:
the customer's stored prediction with the fit that made it, or, without one, the latest fit
(to say why there is none).
"""

from django.urls import reverse

from engagement.models.predictions import CustomerPrediction, PredictionFit

TEMPLATE = "admin/engagement/prediction_panel.html"


def prediction_panel_context(customer) -> dict:
    prediction = (
        CustomerPrediction.objects.select_related("fit").filter(customer_id=customer.pk).first()
    )
    context = {
        "template": TEMPLATE,
        "prediction": prediction,
        "fits_url": reverse("admin:engagement_predictionfit_changelist"),
    }
    if prediction is None:
        latest = PredictionFit.objects.order_by("-fitted_at", "-id").first()
        context["empty_reason"] = (
            "No prediction yet: the model has not been fitted (the nightly recompute, or "
            "`manage.py fit_predictions`)."
            if latest is None
            else "No prediction yet: the next fit or refresh makes one."
        )
        return context
    context["predicted"] = prediction.p_alive is not None
    if not context["predicted"]:
        context["empty_reason"] = prediction.reason
    x = prediction.frequency
    context["figures"] = [
        (label, value)
        for label, value in (
            ("Purchase days", None if x is None else x + 1),
            ("Repeat purchase days (frequency x)", x),
            ("Days from the first to the last purchase day (recency)", prediction.recency),
            ("Days from the first purchase day to the prediction's day (T)", prediction.T),
            ("Mean repeat purchase day (monetary)", _money(prediction.monetary)),
            ("Expected purchase days in 90 days", _count(prediction.expected_purchases_90)),
            ("Expected purchase days in 365 days", _count(prediction.expected_purchases_365)),
            ("Expected value of a purchase day", _money(prediction.expected_value)),
            ("Historical CLV (net revenue to the day)", _money(prediction.historical_clv)),
        )
    ]
    context["value_at_stake"] = prediction.value_at_stake
    return context


def _money(value):
    return None if value is None else f"{value:,.2f}"


def _count(value):
    return None if value is None else f"{value:.2f}"
