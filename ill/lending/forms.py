from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fulfillment.models import Item, Library, Location
from fulfillment.selectors import item_by_barcode
from ill.forms import DATE, ActionForm, NoteForm  # noqa: F401  (NoteForm: the actions use it)
from ill.lending.locate import is_available
from ill.lending.services import RETRY_REASONS, default_due_date, renewal_due_date
from ill.models import LendingRequest
from kauko.uploads import UploadField
from partners.models import Partner

LR = LendingRequest
YES_NO = [("yes", _("Yes")), ("no", _("No"))]


class LendingRequestCreateForm(forms.ModelForm):
    """A lending request typed in from the partner's e-mail."""

    class Meta:
        model = LendingRequest
        fields = ["partner", "partner_request_id", "service_type", *LR.CITATION_FIELDS,
                  "needed_before", "requested_delivery", "delivery_address", "max_cost",
                  "partner_note", "internal_note"]
        widgets = {"citation_text": forms.Textarea(attrs={"rows": 3}),
                   "needed_before": DATE,
                   "delivery_address": forms.Textarea(attrs={"rows": 2}),
                   "partner_note": forms.Textarea(attrs={"rows": 2}),
                   "internal_note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, institution, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = Partner.objects.filter(
            institution=institution, active=True).order_by("name")


# --- one small form per staff action ----------------------------------------------------------


class ChooseItemForm(ActionForm):
    candidate = forms.TypedChoiceField(label=_("Candidate"), required=False, coerce=int,
                                       empty_value=None)
    barcode = forms.CharField(label=_("Or scan our item's barcode"), max_length=100,
                              required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        r = self.request_obj
        choices = [("", _("— none —"))]
        if r is not None:
            for c in r.candidates.all():
                if c.item_id == r.item_id:
                    continue
                state = _("available") if is_available(c.item) else c.item.get_status_display()
                choices.append((c.item_id, f"{c.item} – {c.item.permanent_location} ({state})"))
        self.fields["candidate"].choices = choices

    def clean(self):
        data = super().clean()
        item = None
        if data.get("barcode"):
            item = item_by_barcode(institution=self.request_obj.institution,
                                   barcode=data["barcode"])
            if item is None or item.is_temporary:
                raise forms.ValidationError(_("None of our items has that barcode."))
        elif data.get("candidate"):
            item = Item.objects.filter(institution=self.request_obj.institution,
                                       pk=data["candidate"]).first()
        if item is None:
            raise forms.ValidationError(_("Choose a candidate or scan an item."))
        self.item = item
        return data


class ConditionForm(ActionForm):
    KINDS = [("", _("— choose or write below —")),
             ("library_use_only", _("Library use only")),
             ("no_reproduction", _("No reproduction")),
             ("library_use_no_reproduction", _("Library use only, no reproduction")),
             ("return_by_courier", _("Return by courier or registered mail"))]
    kind = forms.ChoiceField(label=_("Condition"), choices=KINDS, required=False)
    text = forms.CharField(label=_("In our words"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
    cost = forms.DecimalField(label=_("Cost"), required=False, max_digits=8,
                              decimal_places=2, min_value=0)
    reply_by = forms.DateField(label=_("Answer by"), required=False, widget=DATE)

    def clean(self):
        data = super().clean()
        parts = [str(dict(self.KINDS)[data["kind"]]) if data.get("kind") else "",
                 (data.get("text") or "").strip()]
        data["condition"] = "; ".join(p for p in parts if p)
        if not data["condition"] and data.get("cost") is None:
            raise forms.ValidationError(_("Say what the condition is."))
        return data


class ConditionAnswerForm(ActionForm):
    accepted = forms.TypedChoiceField(label=_("The borrower's answer"),
                                      coerce=lambda v: v == "yes",
                                      choices=[("yes", _("Accepted")), ("no", _("Refused"))])
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class RejectForm(ActionForm):
    reason_code = forms.ChoiceField(label=_("Reason"), choices=LR.UnfilledReason.choices)
    reason = forms.CharField(label=_("In our words"), required=False, max_length=300)


class RetryPossibleForm(ActionForm):
    reason_retry = forms.ChoiceField(label=_("Why the partner may ask again"),
                                     choices=[(r, r) for r in RETRY_REASONS])
    cost = forms.DecimalField(label=_("Cost"), max_digits=8, decimal_places=2, min_value=0,
                              required=False)
    currency = forms.RegexField(label=_("Currency"), regex=r"^[A-Za-z]{3}$", max_length=3,
                                required=False, initial="EUR")
    retry_after = forms.DateField(label=_("Ask again from"), required=False, widget=DATE)
    note = forms.CharField(label=_("Note to the partner"), required=False, max_length=500)


class ShipForm(ActionForm):
    barcode = forms.CharField(label=_("Scan the item's barcode"), max_length=100,
                              widget=forms.TextInput(attrs={"autocomplete": "off"}))
    due_date = forms.DateField(label=_("Due date"), required=False, widget=DATE,
                               help_text=_("From the lending terms of use; change if needed."))
    note = forms.CharField(label=_("Note to the partner"), required=False, max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.request_obj is not None and self.request_obj.item_id:
            self.fields["due_date"].initial = default_due_date(self.request_obj)


class ShipDigitallyForm(ActionForm):
    url = forms.URLField(label=_("Link"), required=False, max_length=1000)
    file = UploadField(label=_("Or the file"), required=False)
    note = forms.CharField(label=_("Note to the partner"), required=False, max_length=500)

    def clean(self):
        data = super().clean()
        if not data.get("url") and not data.get("file"):
            raise forms.ValidationError(_("Give the link or upload the file."))
        return data


class RenewalAnswerForm(ActionForm):
    granted = forms.TypedChoiceField(label=_("Our answer"), coerce=lambda v: v == "yes",
                                     choices=[("yes", _("Renew")), ("no", _("Refuse"))])
    new_due_date = forms.DateField(label=_("New due date"), required=False, widget=DATE)
    note = forms.CharField(label=_("Note to the partner"), required=False, max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.request_obj is not None and self.request_obj.item_id:
            self.fields["new_due_date"].initial = renewal_due_date(self.request_obj)


class CancelAnswerForm(ActionForm):
    cancelled = forms.TypedChoiceField(label=_("Cancel?"), coerce=lambda v: v == "yes",
                                       choices=[("yes", _("Yes, cancel")),
                                                ("no", _("No, we go on"))])
    note = forms.CharField(label=_("Note to the partner"), required=False, max_length=500)


class CheckInForm(ActionForm):
    barcode = forms.CharField(label=_("Scan the item's barcode"), max_length=100,
                              widget=forms.TextInput(attrs={"autocomplete": "off"}))


class ReportForm(ActionForm):
    what = forms.ChoiceField(label=_("What happened"),
                             choices=[("lost", _("Lost")), ("damaged", _("Damaged"))])
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class RecallForm(ActionForm):
    new_due_date = forms.DateField(label=_("Return by"), required=False, widget=DATE)
    note = forms.CharField(label=_("Note to the partner"), required=False, max_length=500)



# --- pick list ---------------------------------------------------------------------------------


class PickListFilter(forms.Form):
    library = forms.ModelChoiceField(label=_("Library"), queryset=Library.objects.none(),
                                     required=False)
    location = forms.ModelChoiceField(label=_("Location"), queryset=Location.objects.none(),
                                      required=False)
    printed = forms.ChoiceField(label=_("Pull slip"), required=False, choices=[
        ("no", _("Not printed")), ("yes", _("Printed")), ("", _("All"))])

    def __init__(self, *args, institution, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["library"].queryset = Library.objects.filter(institution=institution)
        self.fields["location"].queryset = Location.objects.filter(
            institution=institution).select_related("library")
