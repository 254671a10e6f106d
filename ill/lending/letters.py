"""Lending's letters: the request as letters see it, and the letter types (registered from
IllConfig.ready())."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from fulfillment.letters import letter_library
from ill.models import LendingRequest
from kauko.letter_types import LENDING_MESSAGE, lending_request, register
from partners.letters import letter_partner


@dataclass
class LendingLetterRequest:
    """The lending request as letters see it (names agreed in kauko.letter_types): our
    number is `number`, the partner's is `partner_request_id`, and `partner_due_date` is
    the due date we give the partner."""

    number: str
    title: str
    author: str
    request_type_label: str
    citation_text: str
    partner_request_id: str
    partner_due_date: datetime.date | None
    needed_before: datetime.date | None
    max_cost: Decimal | None
    condition_text: str
    reply_by: datetime.date | None
    reason: str
    delivery_address: str
    # Borrowing names some shared templates test; a lending request has none of them.
    pickup_desk: None = None
    office_delivery: bool = False
    patron_due_date: None = None
    note_to_partner: str = ""

    @classmethod
    def of(cls, r: LendingRequest) -> LendingLetterRequest:
        return cls(
            number=r.number, title=r.article_title or r.title, author=r.author,
            request_type_label=str(r.get_service_type_display()),
            citation_text=r.display_citation, partner_request_id=r.partner_request_id,
            partner_due_date=r.due_date, needed_before=r.needed_before, max_cost=r.max_cost,
            condition_text=r.condition_text, reply_by=r.condition_reply_by, reason=r.reason,
            delivery_address=r.delivery_address or (r.partner.address if r.partner_id else ""),
        )


def item_context(request: LendingRequest) -> dict | None:
    item = request.item
    if item is None:
        return None
    home = item.permanent_location
    return {"barcode": item.primary_barcode, "title": item.bib.title,
            "call_number": item.call_number or item.holding.call_number,
            "location": home.name, "library": home.library.name}


def letter_context(request: LendingRequest, **extra) -> dict:
    """Plain values only (kauko.letter_sandbox): templates are written by admins."""
    return {"request": LendingLetterRequest.of(request),
            "partner": letter_partner(request.partner),
            "library": letter_library(request.rs_library), "item": item_context(request),
            "message": "", **extra}


def register_letter_types() -> None:
    # --- lending: to the partner ------------------------------------------------------------------

    LENDING = ("request", "partner", "library")

    register("lending_will_supply", _("Lending: will supply"),
             _("Tells the requesting library we will supply the item."),
             "partner", (*LENDING, "message"), request=lending_request,
             message=LENDING_MESSAGE)
    register("lending_conditional", _("Lending: conditional answer"),
             _("Offers to supply on conditions (request.condition_text) and asks for an answer "
               "by request.reply_by."),
             "partner", (*LENDING, "message"), request=lending_request,
             message="")
    register("lending_unfilled", _("Lending: cannot supply"),
             _("Tells the requesting library we cannot supply, with the reason (request.reason)."),
             "partner", (*LENDING, "message"), request=lending_request,
             message="")
    register("lending_shipped", _("Lending: shipped"),
             _("Tells the requesting library the item is on its way: due date "
               "(request.partner_due_date), item barcode and, for a digital copy, the link."),
             "partner", (*LENDING, "item", "message"), request=lending_request, link="",
             message=LENDING_MESSAGE)
    register("lending_renewal_answer", _("Lending: renewal answer"),
             _("Answers a renewal request (renewal.answer yes/no, renewal.new_due_date)."),
             "partner", (*LENDING, "item", "renewal", "message"), request=lending_request,
             message="")
    register("lending_cancel_answer", _("Lending: cancellation answer"),
             _("Answers a request to cancel (answer yes/no)."),
             "partner", (*LENDING, "answer", "message"), request=lending_request, message="")
    register("lending_overdue", _("Lending: overdue"),
             _("Reminds the requesting library that our item is overdue."),
             "partner", (*LENDING, "item"), request=lending_request)
    register("lending_recall", _("Lending: recall"),
             _("Asks the requesting library to return our item early."),
             "partner", (*LENDING, "item", "message"), request=lending_request,
             message="")
    register("lending_checked_in", _("Lending: returned item received"),
             _("Confirms we have received our item back and the request is complete."),
             "partner", (*LENDING, "item"), request=lending_request)


    # --- slips (printed) ---

    register("pull_slip", _("Pull slip"),
             _("Tells staff which of our items to take from the shelf for a lending request."),
             "staff", ("partner", "item", "request", "library"), is_slip=True,
             request=lending_request)
    register("shipping_slip", _("Shipping slip"),
             _("Put in our item shipped to a borrowing library: its address, the request and the "
               "due date."),
             "staff", ("partner", "item", "request", "library"), is_slip=True,
             request=lending_request)
