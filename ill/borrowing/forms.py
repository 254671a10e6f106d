from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fulfillment.models import CirculationDesk, Item
from fulfillment.selectors import item_by_barcode
from ill.borrowing.selectors import library_use_only_condition, retry_offer
from ill.borrowing.services import PATRON_QUERY_TYPES
from ill.forms import DATE, ActionForm, NoteForm, OrderedChoices, ordered  # noqa: F401  (NoteForm: the actions use it)
from ill.models import BorrowingRequest
from kauko.uploads import UploadField
from partners.models import Partner
from patrons.models import Patron


class CitationForm(forms.ModelForm):
    class Meta:
        model = BorrowingRequest
        fields = list(BorrowingRequest.CITATION_FIELDS)
        widgets = {"citation_text": forms.Textarea(attrs={"rows": 3})}


class BorrowingRequestCreateForm(CitationForm):
    patron_barcode = forms.CharField(label=_("Patron's card barcode"), max_length=100)
    partners = forms.ModelMultipleChoiceField(
        label=_("Partners to ask, in order"), queryset=Partner.objects.none(), required=False,
        widget=OrderedChoices,
        help_text=_("The first is asked first; the rest if it cannot supply."))

    class Meta(CitationForm.Meta):
        fields = ["request_type", *BorrowingRequest.CITATION_FIELDS, "needed_before",
                  "pickup_desk", "office_delivery", "max_cost", "patron_fee",
                  "note_to_partner", "internal_note"]
        widgets = {**CitationForm.Meta.widgets, "needed_before": DATE,
                   "note_to_partner": forms.Textarea(attrs={"rows": 2}),
                   "internal_note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, institution, **kwargs):
        super().__init__(*args, **kwargs)
        self.institution = institution
        self.fields["partners"].queryset = Partner.objects.filter(
            institution=institution, active=True).order_by("name")
        self.fields["pickup_desk"].queryset = CirculationDesk.objects.filter(
            institution=institution, is_pickup_point=True)
        self.fields["pickup_desk"].required = False
        self.fields["pickup_desk"].help_text = _("Empty: the patron's preferred desk.")

    def clean_patron_barcode(self):
        barcode = self.cleaned_data["patron_barcode"].strip()
        patron = Patron.objects.filter(institution=self.institution, barcode=barcode).select_related(
            "group").first()
        if patron is None:
            raise forms.ValidationError(_("No patron has the card %(barcode)s.")
                                        % {"barcode": barcode})
        self.patron = patron
        return barcode

    def ordered_partners(self) -> list[Partner]:
        return ordered(self, "partners", self.cleaned_data.get("partners"))


# --- one small form per staff action ----------------------------------------------------------




class ReasonForm(ActionForm):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class RejectForm(ActionForm):
    REASONS = [
        ("", _("— choose or type below —")),
        ("Not held", _("Not held")), ("Not on shelf", _("Not on shelf")),
        ("On loan", _("On loan")), ("Non-circulating", _("Non-circulating")),
        ("Poor condition", _("Poor condition")), ("Policy problem", _("Policy problem")),
        ("Cost exceeds maximum", _("Cost exceeds maximum")),
    ]
    reason_choice = forms.ChoiceField(label=_("Partner's reason"), choices=REASONS,
                                      required=False)
    reason = forms.CharField(label=_("Or in the partner's words"), max_length=300,
                             required=False)

    def clean(self):
        data = super().clean()
        data["reason"] = (data.get("reason") or "").strip() or data.get("reason_choice") or ""
        if not data["reason"]:
            raise forms.ValidationError(_("Give the partner's reason."))
        return data


class ConditionForm(ActionForm):
    condition = forms.CharField(label=_("Condition"), widget=forms.Textarea(attrs={"rows": 2}))
    reply_by = forms.DateField(label=_("Answer by"), required=False, widget=DATE)


class ShippedForm(ActionForm):
    due_date = forms.DateField(label=_("Partner's due date"), required=False, widget=DATE)
    barcode = forms.CharField(label=_("Partner's item barcode"), required=False)


class ShippedDigitallyForm(ActionForm):
    url = forms.URLField(label=_("Partner's link"), required=False, max_length=1000)
    file = UploadField(label=_("Or the file"), required=False)

    def clean(self):
        data = super().clean()
        if not data.get("url") and not data.get("file"):
            raise forms.ValidationError(_("Give the partner's link or upload the file."))
        return data


class RetryForm(NoteForm):
    """Ask again, prefilled with what the partner's RetryPossible offered."""

    max_cost = forms.DecimalField(label=_("Maximum cost"), max_digits=8, decimal_places=2,
                                  required=False, min_value=0)
    currency = forms.RegexField(label=_("Currency"), regex=r"^[A-Za-z]{3}$", required=False,
                                max_length=3, help_text=_("ISO 4217 code, e.g. EUR or USD."))
    item_id = forms.CharField(label=_("Partner's item or record id"), max_length=200,
                              required=False)

    def __init__(self, *args, request_obj=None, **kwargs):
        super().__init__(*args, request_obj=request_obj, **kwargs)
        if self.is_bound or request_obj is None:
            return
        offer = retry_offer(request_obj)
        if offer is None:
            return
        if offer.cost:
            self.initial.setdefault("max_cost", offer.cost[0])
            self.initial.setdefault("currency", offer.cost[1])
        if offer.item_ids:
            self.initial.setdefault("item_id", offer.item_ids[0])
        if offer.conditions:
            self.initial.setdefault("note", _("We accept the condition: %(c)s") % {
                "c": ", ".join(offer.conditions)})

    def clean_currency(self):
        return (self.cleaned_data.get("currency") or "").upper()


class ReceiveForm(ActionForm):
    barcode = forms.CharField(label=_("Scan the item's barcode"), max_length=100,
                              widget=forms.TextInput(attrs={"autofocus": True,
                                                            "autocomplete": "off"}))
    due_date = forms.DateField(label=_("Partner's due date"), required=False, widget=DATE,
                               help_text=_("If the partner did not say it before."))
    not_for_loan = forms.BooleanField(
        label=_("Received – not for loan (library use only)"), required=False,
        help_text=_("The lender's condition keeps it in the library: the desk refuses a home "
                    "loan and says why."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.request_obj is not None:
            self.fields["not_for_loan"].initial = bool(
                library_use_only_condition(self.request_obj))


class PartnerRecallForm(ActionForm):
    new_due_date = forms.DateField(label=_("Return by (the partner's new due date)"),
                                   required=False, widget=DATE)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class RenewalAnswerForm(ActionForm):
    granted = forms.TypedChoiceField(label=_("Partner's answer"), coerce=lambda v: v == "yes",
                                     choices=[("yes", _("Renewed")), ("no", _("Refused"))])
    new_due_date = forms.DateField(label=_("New due date"), required=False, widget=DATE)


class CancelForm(ActionForm):
    reason = forms.CharField(label=_("Reason"), max_length=300)
    notify_patron = forms.BooleanField(label=_("Tell the patron"), required=False)
    by_patron = forms.BooleanField(label=_("The patron asked for it"), required=False)


class CancelAnswerForm(ActionForm):
    cancelled = forms.TypedChoiceField(label=_("Partner's answer"),
                                       coerce=lambda v: v == "yes",
                                       choices=[("yes", _("Cancelled")),
                                                ("no", _("Will not cancel"))])




class RotaForm(ActionForm):
    partners = forms.ModelMultipleChoiceField(label=_("Partners to ask, in order"),
                                              queryset=Partner.objects.none(),
                                              widget=OrderedChoices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        r = self.request_obj
        if r is not None:
            self.fields["partners"].queryset = Partner.objects.filter(
                institution_id=r.institution_id, active=True).order_by("name")
            if not self.is_bound:
                # Start from the rota as it stands, in its order, to reorder, add or drop.
                self.initial["partners"] = [e.partner_id for e in r.rota.order_by("position")]

    def ordered_partners(self):
        # The posted names carry the action's prefix ("rota-partners" on the detail page).
        return ordered(self, "partners", self.cleaned_data["partners"])


class OwnItemForm(ActionForm):
    barcode = forms.CharField(label=_("Barcode of our item"), max_length=100)

    def clean_barcode(self):
        item = item_by_barcode(institution=self.request_obj.institution,
                               barcode=self.cleaned_data["barcode"])
        if item is None or item.is_temporary:
            raise forms.ValidationError(_("None of our items has that barcode."))
        self.item: Item = item
        return self.cleaned_data["barcode"]


class PurchaseForm(ActionForm):
    note = forms.CharField(label=_("Note to acquisitions"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
    notify_patron = forms.BooleanField(label=_("Tell the patron"), required=False)


class QueryPatronForm(ActionForm):
    letter_code = forms.ChoiceField(label=_("Letter"), choices=[
        (PATRON_QUERY_TYPES[0], _("Free message")),
        (PATRON_QUERY_TYPES[1], _("It is freely available")),
        (PATRON_QUERY_TYPES[2], _("Please tell us more")),
    ])
    message = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 3}),
                              required=False)
    link = forms.URLField(label=_("Link"), required=False)


class EditForm(CitationForm):
    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta(CitationForm.Meta):
        fields = [*BorrowingRequest.CITATION_FIELDS, "needed_before", "max_cost",
                  "patron_fee", "note_to_partner", "internal_note"]
        widgets = {**CitationForm.Meta.widgets, "needed_before": DATE}
