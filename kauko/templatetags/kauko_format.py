"""`{% load kauko_format %}`: `{{ amount|money }}` or `{{ amount|money:currency }}`."""

from django import template

from kauko import formats

register = template.Library()


@register.filter
def money(amount, currency="EUR"):
    return formats.money(amount, currency or "EUR")
