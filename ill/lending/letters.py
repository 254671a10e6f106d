"""The letters and slips lending sends, registered from IllConfig.ready()."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kauko.letter_types import LENDING_MESSAGE, lending_request, register


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
