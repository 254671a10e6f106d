"""The staff actions offered on a borrowing request: which are valid now, their forms, and
which service each calls. The detail page shows only the valid ones; the action view
checks again (the request may have moved on) and the service checks a third time under
the row lock."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from ill.actions import Action, iso_partner, version_of
from ill.borrowing import forms as f
from ill.borrowing import services as s
from ill.borrowing.locate import locate_rota
from ill.borrowing.selectors import retry_offered
from ill.forms import ActionForm, AssignForm, DismissForm
from ill.models import BorrowingRequest, Source
from ill.workflow import assign, dismiss_attention

BR = BorrowingRequest








ACTIONS: list[Action] = [
    Action("send", _("Send to partner"), f.ActionForm, transition="send", style="primary",
           run=lambda r, form, u: s.borrowing_request_send(request=r, user=u,
                                                           version=version_of(form))),
    Action("rota", _("Choose partners"), f.RotaForm, states=BR.UNANSWERED,
           run=lambda r, form, u: s.borrowing_request_set_rota(
               request=r, partners=form.ordered_partners(), user=u, version=version_of(form))),
    Action("locate", _("Locate in partners' catalogues"), f.ActionForm, states=BR.UNANSWERED,
           run=lambda r, form, u: locate_rota(request=r, user=u, version=version_of(form))),
    Action("accepted", _("Partner accepted (expects to supply)"), f.NoteForm,
           transition="accept",
           run=lambda r, form, u: s.borrowing_request_accepted(
               request=r, user=u, version=version_of(form), note=form.cleaned_data["note"])),
    Action("will_supply", _("Partner will supply"), f.NoteForm, transition="will_supply",
           run=lambda r, form, u: s.borrowing_request_will_supply(
               request=r, user=u, version=version_of(form), note=form.cleaned_data["note"])),
    Action("conditional", _("Partner set a condition"), f.ConditionForm,
           transition="set_conditional",
           run=lambda r, form, u: s.borrowing_request_conditional(
               request=r, condition=form.cleaned_data["condition"],
               reply_by=form.cleaned_data["reply_by"], user=u, version=version_of(form))),
    Action("accept_conditions", _("Accept the conditions"), f.ActionForm,
           transition="accept_conditions", style="primary",
           run=lambda r, form, u: s.borrowing_request_accept_conditions(
               request=r, user=u, version=version_of(form))),
    Action("reject_conditions", _("Refuse the conditions"), f.ReasonForm,
           states=(BR.S.CONDITIONAL,),
           run=lambda r, form, u: s.borrowing_request_reject_conditions(
               request=r, user=u, version=version_of(form), reason=form.cleaned_data["reason"])),
    Action("rejected", _("Partner cannot supply"), f.RejectForm, transition="reject",
           run=lambda r, form, u: s.borrowing_request_rejected(
               request=r, reason=form.cleaned_data["reason"], user=u, version=version_of(form))),
    Action("shipped", _("Partner shipped it"), f.ShippedForm, transition="ship_physically",
           run=lambda r, form, u: s.borrowing_request_shipped(
               request=r, due_date=form.cleaned_data["due_date"],
               barcode=form.cleaned_data["barcode"], user=u, version=version_of(form))),
    Action("shipped_digitally", _("Partner sent the copy"), f.ShippedDigitallyForm,
           transition="ship_digitally", style="primary",
           run=lambda r, form, u: s.borrowing_request_shipped_digitally(
               request=r, url=form.cleaned_data["url"],
               uploaded_file=form.cleaned_data["file"], user=u, version=version_of(form))),
    Action("copy_arrived", _("The copy arrived: deliver it"), f.ShippedDigitallyForm,
           states=(BR.S.SHIPPED_DIGITAL,), when=lambda r: not r.delivered_at, style="primary",
           open=True,
           run=lambda r, form, u: s.borrowing_request_copy_arrived(
               request=r, url=form.cleaned_data["url"],
               uploaded_file=form.cleaned_data["file"], user=u, version=version_of(form))),
    Action("receive", _("Receive"), f.ReceiveForm, transition="receive", style="primary",
           open=True,
           run=lambda r, form, u: s.borrowing_request_receive(
               request=r, barcode=form.cleaned_data["barcode"], user=u, version=version_of(form),
               due_date=form.cleaned_data["due_date"],
               not_for_loan=form.cleaned_data["not_for_loan"])),
    Action("paper_copy", _("Paper copy arrived by post"), f.ActionForm,
           transition="receive_copy",
           run=lambda r, form, u: s.borrowing_request_paper_copy_received(
               request=r, user=u, version=version_of(form))),
    Action("renew", _("Ask the partner to renew"), f.ActionForm, transition="request_renewal",
           run=lambda r, form, u: s.borrowing_request_request_renewal(
               request=r, user=u, version=version_of(form))),
    Action("renewal_answer", _("Record the renewal answer"), f.RenewalAnswerForm,
           states=(BR.S.RENEW_REQUESTED,), style="primary",
           run=lambda r, form, u: s.borrowing_request_renewal_answer(
               request=r, granted=form.cleaned_data["granted"],
               new_due_date=form.cleaned_data["new_due_date"], user=u, version=version_of(form))),
    # E-mail partners say it in a letter; ISO 18626 partners' messages do this themselves.
    Action("partner_overdue", _("Partner says it is overdue"), f.NoteForm,
           transition="mark_overdue", when=lambda r: not iso_partner(r),
           run=lambda r, form, u: s.borrowing_request_overdue(
               request=r, user=u, version=version_of(form), source=Source.STAFF,
               note=form.cleaned_data["note"])),
    Action("partner_recall", _("Partner recalled it"), f.PartnerRecallForm,
           transition="recall", when=lambda r: not iso_partner(r),
           run=lambda r, form, u: s.borrowing_request_recalled(
               request=r, new_due_date=form.cleaned_data["new_due_date"], user=u,
               version=version_of(form), source=Source.STAFF,
               note=form.cleaned_data["note"])),
    Action("return_to_partner", _("Return to partner"), f.ActionForm,
           transition="return_to_partner",
           run=lambda r, form, u: s.borrowing_request_return_to_partner(
               request=r, user=u, version=version_of(form))),
    Action("complete", _("Complete"), f.NoteForm, transition="complete",
           run=lambda r, form, u: s.borrowing_request_complete(
               request=r, user=u, version=version_of(form), note=form.cleaned_data["note"])),
    Action("cancel_answer", _("Record the cancel answer"), f.CancelAnswerForm,
           states=(BR.S.WAITING_CANCEL,), style="primary",
           run=lambda r, form, u: s.borrowing_request_cancel_answer(
               request=r, cancelled=form.cleaned_data["cancelled"], user=u,
               version=version_of(form))),
    Action("own_collection", _("Found in our collection"), f.OwnItemForm,
           states=BR.UNANSWERED,
           run=lambda r, form, u: s.borrowing_request_fill_from_collection(
               request=r, item=form.item, user=u, version=version_of(form))),
    Action("purchase", _("Purchase request"), f.PurchaseForm, states=BR.UNANSWERED,
           run=lambda r, form, u: s.borrowing_request_to_purchase(
               request=r, user=u, version=version_of(form), note=form.cleaned_data["note"],
               notify_patron=form.cleaned_data["notify_patron"])),
    Action("query_patron", _("Write to the patron"), f.QueryPatronForm,
           states=tuple(v for v in BR.Status.values if v not in BR.FINAL),
           run=lambda r, form, u: s.borrowing_request_query_patron(
               request=r, letter_code=form.cleaned_data["letter_code"],
               message=form.cleaned_data["message"], link=form.cleaned_data["link"], user=u)),
    Action("retry", _("Ask the partner again (retry)"), f.RetryForm, states=BR.AT_PARTNER,
           when=lambda r: iso_partner(r) and retry_offered(r), open=True,
           run=lambda r, form, u: s.borrowing_request_retry(
               request=r, user=u, version=version_of(form), note=form.cleaned_data["note"],
               max_cost=form.cleaned_data["max_cost"], currency=form.cleaned_data["currency"],
               item_id=form.cleaned_data["item_id"])),
    Action("status_request", _("Ask the partner for its status"), f.ActionForm,
           states=tuple(v for v in BR.Status.values if v not in (*BR.FINAL, *BR.UNANSWERED)),
           when=iso_partner,
           run=lambda r, form, u: s.borrowing_request_status_request(
               request=r, user=u, version=version_of(form))),
    Action("partner_note", _("Message to the partner"), f.NoteForm,
           states=tuple(v for v in BR.Status.values if v not in BR.FINAL), when=iso_partner,
           run=lambda r, form, u: s.borrowing_request_partner_note(
               request=r, note=form.cleaned_data["note"], user=u, version=version_of(form))),
    Action("lost", _("Report lost"), f.NoteForm, transition="report_lost", style="danger",
           confirm=_("Tell the partner its item is lost? This cannot be undone."),
           run=lambda r, form, u: s.borrowing_request_report(
               request=r, what="lost", user=u, version=version_of(form),
               note=form.cleaned_data["note"])),
    Action("damaged", _("Report damaged"), f.NoteForm, transition="report_damaged",
           style="danger",
           confirm=_("Tell the partner its item is damaged? This cannot be undone."),
           run=lambda r, form, u: s.borrowing_request_report(
               request=r, what="damaged", user=u, version=version_of(form),
               note=form.cleaned_data["note"])),
    Action("cancel", _("Cancel request"), f.CancelForm, transition="cancel_by_staff",
           style="danger",
           run=lambda r, form, u: s.borrowing_request_cancel(
               request=r, reason=form.cleaned_data["reason"], user=u, version=version_of(form),
               notify_patron=form.cleaned_data["notify_patron"],
               by_patron=form.cleaned_data["by_patron"])),
    Action("reactivate", _("Reactivate"), f.NoteForm, transition="reactivate",
           run=lambda r, form, u: s.borrowing_request_reactivate(
               request=r, user=u, version=version_of(form), note=form.cleaned_data["note"])),
    Action("take", _("Take it"), ActionForm,
           states=tuple(v for v in BR.Status.values if v not in BR.FINAL),
           run=lambda r, form, u: assign(request=r, assignee=u, user=u,
                                         version=version_of(form))),
    Action("assign", _("Give to a colleague"), AssignForm,
           states=tuple(v for v in BR.Status.values if v not in BR.FINAL),
           run=lambda r, form, u: assign(request=r, assignee=form.cleaned_data["assignee"],
                                         user=u, version=version_of(form))),
    Action("dismiss_attention", _("Dismiss the flag"), DismissForm,
           states=tuple(BR.Status.values), when=lambda r: r.needs_attention,
           run=lambda r, form, u: dismiss_attention(
               request=r, reason=form.cleaned_data["reason"], user=u,
               version=version_of(form))),
]

BY_NAME = {a.name: a for a in ACTIONS}


def valid_actions(request: BorrowingRequest) -> list[Action]:
    actions = [a for a in ACTIONS if a.is_valid(request)]
    # Cancelling at the partner asks it first; offer it while waiting would be a no-op.
    if request.status == BR.S.WAITING_CANCEL:
        actions = [a for a in actions if a.name != "cancel"]
    return actions
