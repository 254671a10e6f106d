"""The staff actions offered on a lending request: which are valid now, their forms, and
which service each calls. As for borrowing, the page shows only valid ones, the view checks
again, and the service checks a third time under the row lock."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from ill.actions import Action, iso_partner, version_of
from ill.forms import ActionForm, AssignForm, DismissForm, NoteForm
from ill.lending import forms as f
from ill.lending import services as s
from ill.models import LendingRequest
from ill.workflow import assign, dismiss_attention

LR = LendingRequest




def _note(form):
    return form.cleaned_data.get("note", "")


def _overdue_notice_due(r: LendingRequest) -> bool:
    return (r.due_date is not None and r.due_date < timezone.localdate()
            and (r.status == LR.S.OVERDUE or can_proceed(r.become_overdue)))


ACTIONS: list[Action] = [
    Action("locate", _("Locate again"), f.ActionForm,
           states=(LR.S.CREATED, LR.S.LOCATE_FAILED),
           run=lambda r, form, u: s.lending_request_locate(request=r, user=u,
                                                           version=version_of(form))),
    Action("choose_item", _("Locate by hand / choose another item"), f.ChooseItemForm,
           states=(LR.S.CREATED, LR.S.LOCATE_FAILED, LR.S.PROCESSING, LR.S.WILL_SUPPLY,
                   LR.S.CONDITIONAL),
           run=lambda r, form, u: s.lending_request_choose_item(
               request=r, item=form.item, user=u, version=version_of(form))),
    Action("will_supply", _("Will supply"), f.NoteForm, transition="supply", style="primary",
           run=lambda r, form, u: s.lending_request_will_supply(
               request=r, user=u, version=version_of(form), note=_note(form))),
    Action("conditional", _("Add a condition"), f.ConditionForm,
           transition="offer_conditions",
           run=lambda r, form, u: s.lending_request_conditional(
               request=r, condition=form.cleaned_data["condition"],
               cost=form.cleaned_data["cost"], reply_by=form.cleaned_data["reply_by"],
               user=u, version=version_of(form))),
    Action("condition_answer", _("Record the borrower's answer"), f.ConditionAnswerForm,
           states=(LR.S.CONDITIONAL,), style="primary",
           run=lambda r, form, u: s.lending_request_condition_answer(
               request=r, accepted=form.cleaned_data["accepted"], user=u, version=version_of(form),
               note=_note(form))),
    Action("ship", _("Ship"), f.ShipForm, transition="ship_loan", style="primary", open=True,
           run=lambda r, form, u: s.lending_request_ship(
               request=r, barcode=form.cleaned_data["barcode"],
               due_date=form.cleaned_data["due_date"], user=u, version=version_of(form),
               note=_note(form))),
    Action("ship_digitally", _("Ship digitally"), f.ShipDigitallyForm, transition="ship_copy",
           run=lambda r, form, u: s.lending_request_ship_digitally(
               request=r, url=form.cleaned_data["url"],
               uploaded_file=form.cleaned_data["file"], user=u, version=version_of(form),
               note=_note(form))),
    Action("partner_received", _("Partner received it"), f.NoteForm,
           transition="partner_received",
           run=lambda r, form, u: s.lending_request_partner_received(
               request=r, user=u, version=version_of(form), note=_note(form))),
    Action("renewal_asked", _("Partner asks to renew"), f.NoteForm,
           transition="renewal_asked",
           run=lambda r, form, u: s.lending_request_renewal_asked(
               request=r, user=u, version=version_of(form), note=_note(form))),
    Action("renewal_answer", _("Answer the renewal"), f.RenewalAnswerForm,
           states=(LR.S.RENEW_REQUESTED,), style="primary", open=True,
           run=lambda r, form, u: s.lending_request_renewal_answer(
               request=r, granted=form.cleaned_data["granted"],
               new_due_date=form.cleaned_data["new_due_date"], user=u, version=version_of(form),
               note=_note(form))),
    Action("returned", _("Returned by partner"), f.NoteForm, transition="partner_returned",
           run=lambda r, form, u: s.lending_request_returned(
               request=r, user=u, version=version_of(form), note=_note(form))),
    Action("check_in", _("Check in"), f.CheckInForm, transition="check_in", style="primary",
           open=True,
           run=lambda r, form, u: s.lending_request_check_in(
               request=r, barcode=form.cleaned_data["barcode"], user=u, version=version_of(form))),
    Action("overdue_notice", _("Send an overdue notice"), f.NoteForm,
           states=(*LR.AWAY,), when=_overdue_notice_due,
           run=lambda r, form, u: s.lending_request_overdue_notice(
               request=r, user=u, version=version_of(form), note=_note(form))),
    Action("recall", _("Recall"), f.RecallForm, transition="recall_item",
           run=lambda r, form, u: s.lending_request_recall(
               request=r, new_due_date=form.cleaned_data["new_due_date"], user=u,
               version=version_of(form), note=_note(form))),
    Action("cancel_answer", _("Answer a cancellation"), f.CancelAnswerForm,
           states=LR.BEFORE_SHIPPING,
           run=lambda r, form, u: s.lending_request_cancel_answer(
               request=r, cancelled=form.cleaned_data["cancelled"], user=u,
               version=version_of(form), note=_note(form))),
    Action("reject", _("Reject (cannot supply)"), f.RejectForm, transition="unfilled",
           style="danger",
           confirm=_("Tell the partner we cannot supply? This cannot be undone."),
           run=lambda r, form, u: s.lending_request_reject(
               request=r, reason_code=form.cleaned_data["reason_code"],
               reason=form.cleaned_data["reason"], user=u, version=version_of(form))),
    Action("retry_possible", _("Offer a retry (RetryPossible)"), f.RetryPossibleForm,
           transition="unfilled", when=iso_partner,
           run=lambda r, form, u: s.lending_request_offer_retry(
               request=r, reason_retry=form.cleaned_data["reason_retry"],
               note=form.cleaned_data["note"], cost=form.cleaned_data["cost"],
               currency=form.cleaned_data["currency"],
               retry_after=_start_of(form.cleaned_data["retry_after"]), user=u,
               version=version_of(form))),
    Action("partner_note", _("Message to the partner"), NoteForm,
           states=tuple(v for v in LR.Status.values if v not in LR.FINAL), when=iso_partner,
           run=lambda r, form, u: s.lending_request_partner_note(
               request=r, note=form.cleaned_data["note"], user=u, version=version_of(form))),
    Action("report", _("Report lost or damaged"), f.ReportForm, transition="declare_lost",
           style="danger",
           confirm=_("Declare the item lost or damaged to the partner? This cannot be undone."),
           run=lambda r, form, u: s.lending_request_report(
               request=r, what=form.cleaned_data["what"], user=u, version=version_of(form),
               note=_note(form))),
    Action("take", _("Take it"), ActionForm,
           states=tuple(v for v in LR.Status.values if v not in LR.FINAL),
           run=lambda r, form, u: assign(request=r, assignee=u, user=u,
                                         version=version_of(form))),
    Action("assign", _("Give to a colleague"), AssignForm,
           states=tuple(v for v in LR.Status.values if v not in LR.FINAL),
           run=lambda r, form, u: assign(request=r, assignee=form.cleaned_data["assignee"],
                                         user=u, version=version_of(form))),
    Action("dismiss_attention", _("Dismiss the flag"), DismissForm,
           states=tuple(LR.Status.values), when=lambda r: r.needs_attention,
           run=lambda r, form, u: dismiss_attention(
               request=r, reason=form.cleaned_data["reason"], user=u,
               version=version_of(form))),
]

def _start_of(day):
    """A date as the instant it starts, in the deployment's time zone."""
    if day is None:
        return None
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


BY_NAME = {a.name: a for a in ACTIONS}


def valid_actions(request: LendingRequest) -> list[Action]:
    return [a for a in ACTIONS if a.is_valid(request)]
