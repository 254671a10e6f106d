"""Every letter and slip Kauko sends, with the sample data its preview is rendered with.

Context names (the code that sends a letter provides exactly these; defaults use no others):

- `institution` (name, email) — always there
- `library` (name, address) — the resource-sharing library
- `patron` (full_name, first_name, barcode, email)
- `partner` (name, code, email, address)
- `request` (number, title, author, request_type_label, citation_text, pickup_desk (name) or
  None, office_delivery, delivery_address, patron_due_date, partner_due_date, needed_before,
  max_cost, note_to_partner, condition_text, reason, partner_request_id; lending letters also
  `reply_by`). On the lending side `partner_due_date` is the due date we give the partner.
- `item` (barcode, title), `loan` (due_at), `hold` (pickup_deadline), `desk` (name)
- `message` (what staff wrote, may be empty), `link` (URL), `expires_at` (datetime)
- `desk_pickup_only` (bool), `renewal` (answer "yes"/"no", new_due_date), `answer` ("yes"/"no")

Sample data is deliberately plain (SimpleNamespace), so a preview never touches real records.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from types import SimpleNamespace

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kauko.letters import register_letter_type


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
        note_to_partner="Please send the print copy if you can.",
        condition_text="Library use only, no photocopying.",
        reason="The item is missing from the shelf.",
        partner_request_id="LEND-7731",
        reply_by=today + datetime.timedelta(days=5),
    )
    values.update(overrides)
    return SimpleNamespace(**values)


def _lending_request() -> SimpleNamespace:
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
            address="PO Box 1710\n70421 Kuopio\nFinland"),
        "request": _sample_request,
        "item": lambda: SimpleNamespace(barcode="ILL-000123",
                                        title="The Timeless Way of Building"),
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


def _register(code, name, description, audience, names, is_slip=False, **extra):
    register_letter_type(code, name=name, description=description, audience=audience,
                         sample_context=lambda: _sample(*names, **extra), is_slip=is_slip)


REQUEST = ("request", "patron", "partner", "library")

# --- borrowing: to the partner ---------------------------------------------------------------

_register("borrowing_request_to_partner", _("Borrowing request to partner"),
          _("Asks an e-mail partner to supply an item or a copy for our patron."),
          "partner", REQUEST)
_register("borrowing_renewal_request", _("Renewal request to partner"),
          _("Asks the partner to renew a loan; the partner answers with a new due date."),
          "partner", REQUEST)
_register("borrowing_cancel_to_partner", _("Cancellation to partner"),
          _("Tells the partner we no longer need the item and asks it to cancel the request."),
          "partner", (*REQUEST, "message"))
_register("borrowing_return_to_partner", _("Returned to partner"),
          _("Tells the partner we have shipped its item back."),
          "partner", (*REQUEST, "item"))

# --- borrowing: to the patron ----------------------------------------------------------------

_register("patron_query", _("Query to patron"),
          _("A question or message to the patron about a request; staff write the message."),
          "patron", (*REQUEST, "message", "link"))
_register("patron_query_freely_available", _("Query to patron: freely available"),
          _("Tells the patron the material is freely available online at the given link."),
          "patron", (*REQUEST, "message", "link"))
_register("patron_query_more_info", _("Query to patron: more details needed"),
          _("Asks the patron for more details to identify the material."),
          "patron", (*REQUEST, "message", "link"))
_register("patron_cancellation_notice", _("Cancellation notice to patron"),
          _("Tells the patron the request was cancelled, with the reason."),
          "patron", (*REQUEST, "message"))
_register("patron_article_delivery", _("Article delivery"),
          _("Gives the patron the link to a delivered copy and tells when the link expires."),
          "patron", (*REQUEST, "link", "expires_at"))
_register("patron_renewal_result", _("Renewal result to patron"),
          _("Tells the patron whether the lending library renewed the loan, and the new due "
            "date."),
          "patron", (*REQUEST, "renewal"))
_register("patron_purchase_notice", _("Purchase notice to patron"),
          _("Tells the patron the library will buy the material instead of borrowing it."),
          "patron", (*REQUEST, "message"))

# --- lending: to the partner ------------------------------------------------------------------

LENDING = ("request", "partner", "library")

_register("lending_will_supply", _("Lending: will supply"),
          _("Tells the requesting library we will supply the item."),
          "partner", (*LENDING, "message"), request=_lending_request,
          message=LENDING_MESSAGE)
_register("lending_conditional", _("Lending: conditional answer"),
          _("Offers to supply on conditions (request.condition_text) and asks for an answer "
            "by request.reply_by."),
          "partner", (*LENDING, "message"), request=_lending_request,
          message="")
_register("lending_unfilled", _("Lending: cannot supply"),
          _("Tells the requesting library we cannot supply, with the reason (request.reason)."),
          "partner", (*LENDING, "message"), request=_lending_request,
          message="")
_register("lending_shipped", _("Lending: shipped"),
          _("Tells the requesting library the item is on its way: due date "
            "(request.partner_due_date), item barcode and, for a digital copy, the link."),
          "partner", (*LENDING, "item", "message"), request=_lending_request, link="",
          message=LENDING_MESSAGE)
_register("lending_renewal_answer", _("Lending: renewal answer"),
          _("Answers a renewal request (renewal.answer yes/no, renewal.new_due_date)."),
          "partner", (*LENDING, "item", "renewal", "message"), request=_lending_request,
          message="")
_register("lending_cancel_answer", _("Lending: cancellation answer"),
          _("Answers a request to cancel (answer yes/no)."),
          "partner", (*LENDING, "answer", "message"), request=_lending_request, message="")
_register("lending_overdue", _("Lending: overdue"),
          _("Reminds the requesting library that our item is overdue."),
          "partner", (*LENDING, "item"), request=_lending_request)
_register("lending_recall", _("Lending: recall"),
          _("Asks the requesting library to return our item early."),
          "partner", (*LENDING, "item", "message"), request=_lending_request,
          message="")
_register("lending_checked_in", _("Lending: returned item received"),
          _("Confirms we have received our item back and the request is complete."),
          "partner", (*LENDING, "item"), request=_lending_request)

# --- circulation: to the patron ---------------------------------------------------------------

_register("hold_arrival_notice", _("Hold arrival notice"),
          _("Tells the patron the item is waiting at the pickup desk and until when; says if "
            "it may be loaned at the desk only."),
          "patron", ("patron", "item", "hold", "desk", "request", "desk_pickup_only"))
_register("due_date_reminder", _("Due date reminder"),
          _("Reminds the patron that a loan is due soon."),
          "patron", ("patron", "item", "loan", "request"))
_register("overdue_notice", _("Overdue notice"),
          _("Tells the patron a loan is overdue."),
          "patron", ("patron", "item", "loan", "request"))
_register("hold_shelf_expired_notice", _("Hold shelf expired"),
          _("Tells the patron the item was not picked up in time and is no longer held."),
          "patron", ("patron", "item", "hold", "desk", "request"))

# --- slips (printed) --------------------------------------------------------------------------

_register("hold_slip", _("Hold slip"),
          _("Put in the item on the hold shelf: the patron, the pickup deadline and whether it "
            "is for desk pickup only."),
          "staff", ("patron", "item", "hold", "desk", "request", "desk_pickup_only"),
          is_slip=True)
_register("return_slip", _("Return slip"),
          _("Put in a borrowed item going back to the lending library: its name and address "
            "and our request number."),
          "staff", ("partner", "item", "request", "library"), is_slip=True)
_register("pull_slip", _("Pull slip"),
          _("Tells staff which of our items to take from the shelf for a lending request."),
          "staff", ("partner", "item", "request", "library"), is_slip=True,
          request=_lending_request)
_register("shipping_slip", _("Shipping slip"),
          _("Put in our item shipped to a borrowing library: its address, the request and the "
            "due date."),
          "staff", ("partner", "item", "request", "library"), is_slip=True,
          request=_lending_request)
