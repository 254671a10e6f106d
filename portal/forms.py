"""The portal's forms: sign-in and the request form. They parse; services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.selectors import portal_institutions


class _InstitutionField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class _WithInstitution(forms.Form):
    institution = _InstitutionField(label=_("Library"), queryset=None, empty_label=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = portal_institutions()


class SignInForm(_WithInstitution):
    card = forms.CharField(label=_("Library card number"), max_length=100,
                           widget=forms.TextInput(attrs={"autocomplete": "username",
                                                         "autocapitalize": "characters"}))
    pin = forms.CharField(label=_("PIN"), max_length=50,
                          widget=forms.PasswordInput(attrs={"autocomplete": "current-password",
                                                            "inputmode": "numeric"}))


class SignInLinkForm(_WithInstitution):
    card = forms.CharField(label=_("Library card number"), max_length=100,
                           widget=forms.TextInput(attrs={"autocomplete": "username"}))
