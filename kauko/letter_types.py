"""The sample data every letter's preview is rendered with, and `register`, which the apps
that send letters call from their AppConfig.ready() (`circulation.letters`,
`ill.borrowing.letters`, `ill.lending.letters`) to register each letter type.

Context names (the code that sends a letter provides exactly these; defaults use no others):

- `institution` (name, email) — always there
- `library` (name, address) — the resource-sharing library
- `patron` (full_name, first_name, barcode, email)
- `partner` (name, code, email, address = shipping address, return_to_address)
- `request` (number, title, author, request_type_label, citation_text, pickup_desk (name) or
  None, office_delivery, delivery_address, patron_due_date, partner_due_date, needed_before,
  max_cost, max_cost_currency (borrowing), note_to_partner, condition_text, reason, partner_request_id; lending letters also
  `reply_by`). On the lending side `partner_due_date` is the due date we give the partner.
- `item` (barcode, title; pull slips also call_number, location, library), `loan` (due_at),
  `hold` (pickup_deadline), `desk` (name), `office_delivery_address` (hold slip, notice)
- `message` (what staff wrote, may be empty), `link` (URL), `expires_at` (datetime)
- `desk_pickup_only` (bool), `renewal` (answer "yes"/"no", new_due_date), `answer` ("yes"/"no")

Every value is plain (strings, numbers, dates, mappings, dataclasses and SimpleNamespaces of
them), built for the letter by the code that sends it: templates render in a sandbox
(`kauko.letter_sandbox`) that refuses model instances and querysets, because configuration
admins write them. Sample data is plain too, so a preview never touches real records.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from types import SimpleNamespace

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kauko.letter_registry import register_letter_type


def _today() -> datetime.date:
    return timezone.localdate()


def _sample_request(**overrides) -> SimpleNamespace:
    today = _today()
    values = dict(
        number="DEMO-B-2026-000042",
        title="The Timeless Way of Building",
        author="Alexander, Christopher",
        request_type_label=_("Book loan"),
        citation_text="The Timeless Way of Building / Alexander, Christopher\n"
                      "Oxford University Press, 1979\nISBN 9780195024029",
        pickup_desk=SimpleNamespace(name="Learning Centre, main desk"),
        office_delivery=False,
        delivery_address="",
        patron_due_date=today + datetime.timedelta(days=25),
        partner_due_date=today + datetime.timedelta(days=28),
        needed_before=today + datetime.timedelta(days=30),
        max_cost=Decimal("20.00"),
        max_cost_currency="EUR",
        note_to_partner="Please send the print copy if you can.",
        condition_text="Library use only, no photocopying.",
        reason="The item is missing from the shelf.",
        partner_request_id="LEND-7731",
        reply_by=today + datetime.timedelta(days=5),
    )
    values.update(overrides)
    return SimpleNamespace(**values)


def lending_request() -> SimpleNamespace:
    # On the lending side our number is the lending request's, the partner's is theirs.
    return _sample_request(number="DEMO-L-2026-000017", partner_request_id="NRL-B-2026-000311",
                           note_to_partner="", reason="The item is in use by our own patrons.")


LENDING_MESSAGE = "Please handle the book with care: the binding is fragile."


def _sample(*names: str, **extra) -> dict:
    """A fresh sample context with the given standard names plus `extra` (values or
    callables, called for every preview so dates stay current)."""
    today = _today()
    now = timezone.now()
    standard = {
        "library": lambda: SimpleNamespace(
            name="Example University Library, Resource sharing",
            address="PO Box 1000\n00076 EXAMPLE\nFinland"),
        "patron": lambda: SimpleNamespace(full_name="Maija Meikäläinen", first_name="Maija",
                                          barcode="2000123456", email="maija@example.org"),
        "partner": lambda: SimpleNamespace(
            name="National Repository Library", code="NRL", email="ill@nrl.example.org",
            address="PO Box 1710\n70421 Kuopio\nFinland",
            return_to_address="Returns, PO Box 1710\n70421 Kuopio\nFinland"),
        "request": _sample_request,
        "item": lambda: SimpleNamespace(barcode="ILL-000123",
                                        title="The Timeless Way of Building",
                                        call_number="720.1 ALE", location="Open stacks",
                                        library="Learning Centre"),
        "loan": lambda: SimpleNamespace(due_at=now + datetime.timedelta(days=3)),
        "hold": lambda: SimpleNamespace(pickup_deadline=today + datetime.timedelta(days=7)),
        "desk": lambda: SimpleNamespace(name="Learning Centre, main desk"),
        "message": lambda: "Could you tell us which edition you need?",
        "link": lambda: "https://kauko.example.org/articles/aBcD1234",
        "expires_at": lambda: now + datetime.timedelta(days=30),
        "desk_pickup_only": lambda: True,
        "renewal": lambda: SimpleNamespace(answer="yes",
                                           new_due_date=today + datetime.timedelta(days=28)),
        "answer": lambda: "yes",
    }
    context = {name: standard[name]() for name in names}
    context.update({name: value() if callable(value) else value
                    for name, value in extra.items()})
    return context


def register(code, name, description, audience, names, is_slip=False, **extra):
    """Register a letter type whose preview uses the standard sample `names` plus `extra`."""
    register_letter_type(code, name=name, description=description, audience=audience,
                         sample_context=lambda: _sample(*names, **extra), is_slip=is_slip)
