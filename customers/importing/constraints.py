"""The models' CheckConstraints evaluated on an unsaved instance, in Python.

`Model.validate_constraints()` asks the database once per constraint and row, which is
100,000s of queries for an import. The rules stay where they are written (Meta.constraints);
this only evaluates their Q objects with SQL's three-valued logic, and falls back to
the database for a lookup it does not know.
"""

import operator

from django.core.exceptions import ValidationError
from django.db.models import CheckConstraint, F, Q

_OPS = {
    "exact": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


class Unsupported(Exception):
    pass


def _value(instance, name):
    field = instance._meta.get_field(name)
    return getattr(instance, field.attname)


def _lookup(instance, lookup: str, right):
    name, _, op = lookup.partition("__")
    op = op or "exact"
    left = _value(instance, name)
    if isinstance(right, F):
        right = _value(instance, right.name)
    elif hasattr(right, "resolve_expression"):
        raise Unsupported(lookup)
    if op == "isnull":
        return (left is None) == bool(right)
    if op == "in":
        return None if left is None else left in right
    if op not in _OPS:
        raise Unsupported(lookup)
    if left is None or right is None:
        return None  # NULL compares to nothing: unknown
    return _OPS[op](left, right)


def holds(q: Q, instance) -> bool | None:
    """True, False or None (SQL's unknown) for `q` on `instance`."""
    results = [
        holds(child, instance) if isinstance(child, Q) else _lookup(instance, *child)
        for child in q.children
    ]
    if q.connector == Q.AND:
        value = False if False in results else (None if None in results else True)
    else:
        value = True if True in results else (None if None in results else False)
    if q.negated and value is not None:
        value = not value
    return value


def referenced_fields(q: Q) -> list[str]:
    names = []
    for child in q.children:
        if isinstance(child, Q):
            names.extend(referenced_fields(child))
        else:
            names.append(child[0].split("__")[0])
            if isinstance(child[1], F):
                names.append(child[1].name)
    return names


def constraint_field(model, constraint) -> str:
    """The column a violated check is reported on: the last-declared field it reads
    (`ended_at` rather than `started_at`, `amount` rather than `kind`)."""
    order = [f.name for f in model._meta.concrete_fields]
    names = [n for n in referenced_fields(constraint.condition) if n in order]
    return max(names, key=order.index) if names else ""


def check_constraints(instance) -> dict[str, list[str]]:
    """{column: [messages]} for every CheckConstraint the instance violates."""
    errors: dict[str, list[str]] = {}
    model = type(instance)
    for constraint in model._meta.constraints:
        if not isinstance(constraint, CheckConstraint):
            continue
        try:
            # A CHECK fails only when its condition is false; unknown (NULL) passes.
            violated = holds(constraint.condition, instance) is False
        except Unsupported:
            try:
                constraint.validate(model, instance)
                violated = False
            except ValidationError:
                violated = True
        if violated:
            errors.setdefault(constraint_field(model, constraint), []).append(
                str(constraint.get_violation_error_message())
            )
    return errors
