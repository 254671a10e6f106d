"""Borrowing's letters: the request as letters see it, sending after commit, and the letter
types (registered from IllConfig.ready())."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from fulfillment.letters import letter_desk, letter_library
from ill.borrowing.selectors import current_attempt_id
from ill.models import BorrowingRequest
from kauko.letter_types import register
from kauko.letters import letter_language, queue_letter
from partners.letters import letter_partner
from patrons.letters import letter_patron


def letter_context(request: BorrowingRequest, **extra) -> dict:
    """Plain values only (kauko.letter_sandbox): templates are written by admins."""
    return {
        "request": LetterRequest.of(request),
        "patron": letter_patron(request.patron),
        "partner": letter_partner(request.partner),
        "library": letter_library(request.rs_library),
        **extra,
    }


@dataclass
class LetterRequest:
    """The request as letters see it (names agreed in kauko.letter_types)."""

    number: str
    title: str
    author: str
    request_type_label: str
    citation_text: str
    pickup_desk: dict | None  # name, code
    office_delivery: bool
    delivery_address: str
    patron_due_date: datetime.date | None
    partner_due_date: datetime.date | None
    needed_before: datetime.date | None
    max_cost: Decimal | None
    note_to_partner: str
    condition_text: str
    reason: str
    partner_request_id: str
    max_cost_currency: str = "EUR"

    @classmethod
    def of(cls, r: BorrowingRequest) -> LetterRequest:
        return cls(
            number=r.number, title=r.article_title or r.title, author=r.author,
            request_type_label=str(r.get_request_type_display()),
            citation_text=r.display_citation, pickup_desk=letter_desk(r.pickup_desk),
            office_delivery=r.office_delivery, delivery_address=r.delivery_address,
            patron_due_date=r.patron_due_date, partner_due_date=r.partner_due_date,
            needed_before=r.needed_before, max_cost=r.max_cost,
            note_to_partner=r.note_to_partner, condition_text=r.condition_text,
            reason=r.reason, partner_request_id=current_attempt_id(r),
            max_cost_currency=r.max_cost_currency or "EUR",
        )


def send_letter_later(*, request: BorrowingRequest, code: str, to: str, language: str | None,
                      user=None, **extra) -> None:
    """Queue a letter, recorded on the request, to be sent once the change is committed
    (call it inside the change's transaction: the letter is kept with the change and sent
    even if the broker is down at commit)."""
    with translation.override(letter_language(institution=request.institution,
                                              language=language)):
        context = letter_context(request, **extra)
    queue_letter(institution=request.institution, code=code, to=to, language=language,
                 context=context, about=request,
                 sent_by=user if getattr(user, "pk", None) else None)


def patron_letter(request, code, user, **extra):
    patron = request.patron
    send_letter_later(request=request, code=code, to=patron.email,
                      language=patron.preferred_language, user=user, **extra)


def register_letter_types() -> None:
    REQUEST = ("request", "patron", "partner", "library")

    # --- borrowing: to the partner ---------------------------------------------------------------

    register("borrowing_request_to_partner", _("Borrowing request to partner"),
             _("Asks an e-mail partner to supply an item or a copy for our patron."),
             "partner", REQUEST)
    register("borrowing_renewal_request", _("Renewal request to partner"),
             _("Asks the partner to renew a loan; the partner answers with a new due date."),
             "partner", REQUEST)
    register("borrowing_cancel_to_partner", _("Cancellation to partner"),
             _("Tells the partner we no longer need the item and asks it to cancel the request."),
             "partner", (*REQUEST, "message"))
    register("borrowing_lost_to_partner", _("Lost or damaged: to partner"),
             _("Tells the partner its item was lost or damaged while with us (what: "
               "lost/damaged) and asks how to compensate."),
             "partner", (*REQUEST, "item", "message"), what="lost")
    register("borrowing_reminder_to_partner", _("Reminder to partner"),
             _("Asks an e-mail partner where our request stands: it is past the partner's "
               "average supply time."),
             "partner", REQUEST)
    register("borrowing_return_to_partner", _("Returned to partner"),
             _("Tells the partner we have shipped its item back."),
             "partner", (*REQUEST, "item"))

    # --- borrowing: to the patron ----------------------------------------------------------------

    register("patron_query", _("Query to patron"),
             _("A question or message to the patron about a request; staff write the message."),
             "patron", (*REQUEST, "message", "link"))
    register("patron_query_freely_available", _("Query to patron: freely available"),
             _("Tells the patron the material is freely available online at the given link."),
             "patron", (*REQUEST, "message", "link"))
    register("patron_query_more_info", _("Query to patron: more details needed"),
             _("Asks the patron for more details to identify the material."),
             "patron", (*REQUEST, "message", "link"))
    register("patron_cancellation_notice", _("Cancellation notice to patron"),
             _("Tells the patron the request was cancelled, with the reason."),
             "patron", (*REQUEST, "message"))
    register("patron_article_delivery", _("Article delivery"),
             _("Gives the patron the link to a delivered copy and tells when the link expires."),
             "patron", (*REQUEST, "link", "expires_at"))
    register("patron_renewal_result", _("Renewal result to patron"),
             _("Tells the patron whether the lending library renewed the loan, and the new due "
               "date."),
             "patron", (*REQUEST, "renewal"))
    register("patron_auto_renewal_refused", _("Automatic renewal refused: to patron"),
             _("Tells a patron whose ILL loans renew automatically (staff) that this one could "
               "not be renewed, why, and the due date to return it by."),
             "patron", (*REQUEST, "message"))
    register("patron_purchase_notice", _("Purchase notice to patron"),
             _("Tells the patron the library will buy the material instead of borrowing it."),
             "patron", (*REQUEST, "message"))


    # --- slips (printed) ---

    register("return_slip", _("Return slip"),
             _("Put in a borrowed item going back to the lending library: its name and address "
               "and our request number."),
             "staff", ("partner", "item", "request", "library"), is_slip=True)
