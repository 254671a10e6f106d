"""Letters from the desk to patrons: arrival notice, due-date reminder, overdue notice,
hold shelf expiry. The wording and sending are `kauko.letters`' job; this module builds the
context (names as in `kauko.letter_types`) and queues the letter in the scan's (or job's)
transaction (`queue_letter`), so a scan never waits for the mail server and a letter is never
lost: with a broker a worker sends it after the commit, without one it is sent in-process
right after the commit, and if the broker is down the letter sweeper sends it later.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from circulation.hooks import IllItemInfo, ill_bridge
from circulation.models import Hold, Loan
from fulfillment.letters import letter_desk, letter_library
from fulfillment.models import Item
from kauko.letter_types import register
from kauko.letters import letter_language, queue_letter, send_letter
from kauko.models import StaffUser
from patrons.letters import letter_patron

logger = logging.getLogger(__name__)


def letter_item(item: Item) -> dict:
    return {"barcode": item.primary_barcode, "title": item.bib.title,
            "author": item.bib.author, "call_number": item.call_number}


def letter_hold(hold: Hold | None) -> dict | None:
    if hold is None:
        return None
    return {"pickup_deadline": hold.pickup_deadline, "office_delivery": hold.office_delivery,
            "delivery_address": hold.delivery_address,
            "desk_pickup_only": hold.desk_pickup_only}


def letter_loan(loan: Loan | None) -> dict | None:
    if loan is None:
        return None
    return {"due_at": loan.due_at, "loaned_at": loan.loaned_at}


def letter_context(*, item: Item, patron, desk=None, hold=None, loan=None,
                   info: IllItemInfo | None = None, **extra) -> dict:
    """The context letters and slips about one item get: plain values only
    (kauko.letter_sandbox), since configuration admins write the templates."""
    desk_only = bool((hold and hold.desk_pickup_only) or (info and info.is_international))
    context = {
        "library": letter_library(desk.library) if desk else None,
        "patron": letter_patron(patron), "item": letter_item(item), "desk": letter_desk(desk),
        "hold": letter_hold(hold), "loan": letter_loan(loan), "desk_pickup_only": desk_only,
        "request": {"number": info.request_number, "title": info.title or item.bib.title,
                    "pickup_desk": letter_desk(hold.pickup_desk) if hold else None,
                    "office_delivery": bool(hold and hold.office_delivery),
                    "delivery_address": hold.delivery_address if hold else ""}
        if info else None,
        "partner": {"name": info.partner_name} if info and info.partner_name else None,
    }
    context.update(extra)
    return context


def queue_patron_letter(*, code: str, hold: Hold | None = None, loan: Loan | None = None,
                        user=None, context: dict | None = None) -> bool:
    """Queue a letter to the patron of `hold` (or `loan`), sent once the transaction
    commits (call it inside the change's transaction). `context`: the letter context the
    caller already built (a scan has one for the slip); else it is built here.

    False when the patron has no e-mail address (staff are told to phone instead)."""
    patron = (hold or loan).patron
    if not patron.email:
        return False
    if loan is not None:
        about, item, desk = loan, loan.item, loan.desk
    else:
        about, item, desk = hold, hold.item, hold.shelf_desk or hold.pickup_desk
    if context is None:
        info = ill_bridge().describe_item(item=item) if item.is_temporary else None
        with translation.override(letter_language(institution=item.institution,
                                                  language=patron.preferred_language)):
            context = letter_context(item=item, patron=patron, desk=desk, hold=hold,
                                     loan=loan, info=info)
    queue_letter(institution=item.institution, code=code, to=patron.email,
                 language=patron.preferred_language or None, context=context, about=about,
                 sent_by=user if getattr(user, "pk", None) else None)
    return True


# Letters were once queued as this task; kept so that any still waiting in a broker's queue
# when Kauko is upgraded are sent.
@shared_task(name="circulation.send_desk_letter")
def send_desk_letter(*, code: str, hold_id: int | None = None, loan_id: int | None = None,
                     user_id: int | None = None) -> None:
    related = ("patron__group", "item__bib", "item__institution")
    if loan_id is not None:
        loan = Loan.objects.select_related(*related, "desk__library").get(pk=loan_id)
        hold, about, desk = None, loan, loan.desk
        patron, item = loan.patron, loan.item
    else:
        hold = Hold.objects.select_related(*related, "shelf_desk__library",
                                           "pickup_desk__library").get(pk=hold_id)
        loan, about, desk = None, hold, hold.shelf_desk or hold.pickup_desk
        patron, item = hold.patron, hold.item
    info = ill_bridge().describe_item(item=item) if item.is_temporary else None
    context = letter_context(item=item, patron=patron, desk=desk, hold=hold, loan=loan,
                             info=info)
    sent_by = StaffUser.objects.filter(pk=user_id).first() if user_id else None
    send_letter(institution=item.institution, code=code, to=patron.email,
                language=patron.preferred_language or None, context=context, about=about,
                sent_by=sent_by)


def register_letter_types() -> None:
    """The desk's letters to patrons and its slips (from CirculationConfig.ready())."""
    # --- circulation: to the patron ---------------------------------------------------------------

    register("hold_arrival_notice", _("Hold arrival notice"),
             _("Tells the patron the item is waiting at the pickup desk and until when; says if "
               "it may be loaned at the desk only."),
             "patron", ("patron", "item", "hold", "desk", "request", "desk_pickup_only"))
    register("due_date_reminder", _("Due date reminder"),
             _("Reminds the patron that a loan is due soon."),
             "patron", ("patron", "item", "loan", "request"))
    register("overdue_notice", _("Overdue notice"),
             _("Tells the patron a loan is overdue."),
             "patron", ("patron", "item", "loan", "request"))
    register("office_delivery_notice", _("Office delivery notice"),
             _("Tells a staff patron the item is on its way by internal mail to their office "
               "address."),
             "patron", ("patron", "item", "hold", "desk", "request"),
             office_delivery_address="Building A, room 101")
    register("hold_shelf_expired_notice", _("Hold shelf expired"),
             _("Tells the patron the item was not picked up in time and is no longer held."),
             "patron", ("patron", "item", "hold", "desk", "request"))


    # --- slips (printed) ---

    register("hold_slip", _("Hold slip"),
             _("Put in the item on the hold shelf: the patron, the pickup deadline and whether it "
               "is for desk pickup only."),
             "staff", ("patron", "item", "hold", "desk", "request", "desk_pickup_only"),
             is_slip=True, office_delivery_address="")
