"""Shape engagement_preview's PreviewSummary for the preview page, customers named and linked.

The sample customers of every move are named in one query.
"""

from django.urls import reverse

from customers.models import Customer


def preview_context(summary) -> dict:
    """`summary` is a PreviewSummary, or None when the form changes nothing."""
    if summary is None:
        return {"status_moves": [], "type_moves": [], "moving": 0, "type_moving": 0}
    status_moves = [dict(move) for move in summary.status_moves]
    type_moves = [dict(move) for move in summary.type_moves]
    ids = {pk for move in (*status_moves, *type_moves) for pk in move["samples"]}
    names = dict(Customer.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
    for move in (*status_moves, *type_moves):
        move["samples"] = [
            {
                "id": pk,
                "name": names.get(pk, f"#{pk}"),
                "url": reverse("admin:customers_customer_change", args=[pk]),
            }
            for pk in move["samples"]
        ]
    return {
        "status_moves": status_moves,
        "type_moves": type_moves,
        "moving": sum(move["count"] for move in status_moves),
        "type_moving": sum(move["count"] for move in type_moves),
        "evaluated": summary.customers,
        "preview_as_of": summary.as_of,
    }
