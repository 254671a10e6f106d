"""Forms both sides' staff actions build on: the hidden version every action posts (so a
colleague's change in between is noticed), and the plain note."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

DATE = forms.DateInput(attrs={"type": "date"})


class ActionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, request_obj=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request_obj = request_obj


class NoteForm(ActionForm):
    note = forms.CharField(label=_("Note"), required=False, max_length=500)
