from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from reports.selectors import Period

MAX_DAYS = 3 * 366


class PeriodForm(forms.Form):
    """The date range every report takes (inclusive local days), and how to group."""

    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    by = forms.ChoiceField(label=_("Group by"), required=False, choices=())

    def __init__(self, *args, dimensions: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if dimensions:
            self.fields["by"].choices = [(key, label) for key, (_f, label) in dimensions.items()]
        else:
            del self.fields["by"]

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("The range ends before it starts."))
            if (end - start).days > MAX_DAYS:
                raise forms.ValidationError(_("Choose at most three years."))
        return data

    @property
    def period(self) -> Period:
        return Period(self.cleaned_data["start"], self.cleaned_data["end"])
