"""Dates and money as the reader's language writes them (Django's localisation), for code
that builds text outside a template: list rows, history notes, desk messages.

Templates use `|date:"SHORT_DATE_FORMAT"` and the `money` filter of `kauko_tags` instead.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import formats, timezone
from django.utils.translation import gettext as _


def short_date(value: datetime.date | datetime.datetime | None, default: str = "–") -> str:
    """E.g. 3.12.2026 in Finnish, 2026-12-03 in Swedish, 12/03/2026 in English."""
    if value is None:
        return default
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def short_datetime(value: datetime.datetime | None, default: str = "–") -> str:
    if value is None:
        return default
    value = timezone.localtime(value) if timezone.is_aware(value) else value
    return formats.date_format(value, "SHORT_DATETIME_FORMAT")


CURRENCY_SIGNS = {"EUR": "€", "USD": "$", "GBP": "£", "SEK": "kr", "NOK": "kr", "DKK": "kr"}


def money(amount: Decimal | int | float | str | None, currency: str = "EUR",
          default: str = "–") -> str:
    """An amount with two decimals in the reader's number format and its currency:
    45,00 € in Finnish and Swedish, 45.00 € in English (the sign follows the amount, as
    Nordic libraries write it; an unknown currency keeps its ISO code)."""
    if amount is None or amount == "":
        return default
    number = formats.number_format(Decimal(str(amount)), decimal_pos=2, use_l10n=True,
                                   force_grouping=True)
    sign = CURRENCY_SIGNS.get((currency or "EUR").upper(), (currency or "").upper())
    return _("%(amount)s %(currency)s") % {"amount": number, "currency": sign}
