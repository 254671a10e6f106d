"""The letters and slips borrowing sends, registered from IllConfig.ready()."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kauko.letter_types import register


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
    register("patron_purchase_notice", _("Purchase notice to patron"),
             _("Tells the patron the library will buy the material instead of borrowing it."),
             "patron", (*REQUEST, "message"))


    # --- slips (printed) ---

    register("return_slip", _("Return slip"),
             _("Put in a borrowed item going back to the lending library: its name and address "
               "and our request number."),
             "staff", ("partner", "item", "request", "library"), is_slip=True)
