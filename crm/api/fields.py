"""Serializer fields for input the database or a calendar could not hold."""

from rest_framework import serializers

from crm.params import FIRST_DAY, LAST_DAY, MAX_ID


class DayField(serializers.DateField):
    """A date the product can reason about (crm.params.FIRST_DAY to LAST_DAY): 9999-12-31
    would overflow the first period or bucket computed from it."""

    default_error_messages = {
        "out_of_range": f"Enter a date from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}."
    }

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        if not FIRST_DAY <= day <= LAST_DAY:
            self.fail("out_of_range")
        return day


class IdField(serializers.IntegerField):
    """A record id: a whole number from 1 to the database's largest."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)
