"""Purchase histories drawn from the buy-till-you-die process itself, for the tests of the
stored predictions and the faces that show them (enough buyers and repeaters to fit)."""

import datetime as dt
from decimal import Decimal

import numpy as np
from django.utils import timezone

from customers.models import Customer, Interaction

UTC = dt.UTC


def noon(day: dt.date) -> dt.datetime:
    """Midday UTC: the same local day in the test time zone (UTC) whatever the hour rules."""
    return dt.datetime.combine(day, dt.time(12), tzinfo=UTC)


def make_buyers(n: int = 150, *, as_of: dt.date, seed: int = 0, owner=None) -> list[Customer]:
    """`n` customers, each with purchases up to `as_of`: rates ~ Gamma(0.8, 1/25 per day),
    drop-out after a purchase ~ Beta(1, 3), first purchase 30 to 400 days before `as_of`;
    amounts around a customer's own mean. Answers the customers, in id order."""
    rng = np.random.default_rng(seed)
    customers = Customer.objects.bulk_create(
        [
            Customer(
                name=f"Buyer {seed}-{i:04d}",
                kind=Customer.Kind.COMPANY,
                email=f"buyer{seed}-{i}@example.com",
                country="DE",
                industry="Retail",
                owner=owner,
                customer_since=as_of - dt.timedelta(days=500),
            )
            for i in range(n)
        ]
    )
    rows = []
    for customer in customers:
        rate = rng.gamma(0.8, 1 / 25)
        drop = rng.beta(1, 3)
        mean = rng.gamma(4, 25)
        day = as_of - dt.timedelta(days=int(rng.integers(30, 400)))
        while day <= as_of:
            amount = Decimal(str(round(max(rng.gamma(6, mean / 6), 1.0), 2)))
            rows.append(
                Interaction(
                    customer=customer, kind="purchase", occurred_at=noon(day), amount=amount
                )
            )
            if rng.random() < drop:
                break
            day += dt.timedelta(days=1 + int(rng.exponential(1 / rate)))
    Interaction.objects.bulk_create(rows)
    return sorted(customers, key=lambda c: c.pk)


def purchase(customer, day: dt.date, amount="10.00", kind="purchase") -> Interaction:
    return Interaction.objects.create(
        customer=customer, kind=kind, occurred_at=noon(day), amount=Decimal(amount)
    )


def today() -> dt.date:
    return timezone.localdate()


def a_fit(as_of: dt.date | None = None, **fields):
    """A converged fit as stored (parameters of the CDNOW sample, alpha in days)."""
    from engagement.models.predictions import PredictionFit

    values = {
        "as_of": as_of or today(),
        "fitted_at": timezone.now(),
        "customers": 2357,
        "repeaters": 946,
        "r": 0.243,
        "alpha": 30.90,
        "a": 0.793,
        "b": 2.426,
        "p": 6.25,
        "q": 3.74,
        "gamma": 15.44,
        "log_likelihood": -9582.4,
        "gamma_gamma_log_likelihood": -4000.0,
        "converged": True,
        **fields,
    }
    return PredictionFit.objects.create(**values)


def a_prediction(customer, *, fit, p_alive, clv, frequency=3, **fields):
    """A stored prediction with the figures a face shows (the others plausible)."""
    from engagement.models.predictions import CustomerPrediction

    values = {
        "customer": customer,
        "fit": fit,
        "as_of": fit.as_of,
        "frequency": frequency,
        "recency": 120,
        "T": 300,
        "monetary": Decimal("40.00"),
        "p_alive": p_alive,
        "expected_purchases_90": 0.5,
        "expected_purchases_365": 2.0,
        "expected_value": Decimal("45.00"),
        "predicted_clv_365": None if clv is None else Decimal(str(clv)),
        "historical_clv": Decimal("160.00"),
        "reason": (
            "no purchase yet"
            if p_alive is None
            else f"p_alive {p_alive:.2f}: {frequency + 1} purchase days, the last 180 days "
            "ago, while a customer like this buys every 40 days"
        ),
        **fields,
    }
    return CustomerPrediction.objects.create(**values)
