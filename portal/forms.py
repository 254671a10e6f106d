"""The portal's forms: sign-in and the request form. They parse; services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fulfillment.models import CirculationDesk
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


CITATION_FIELDS = ("title", "author", "article_title", "article_author", "year", "volume",
                   "issue", "pages", "edition", "publisher", "isbn", "issn", "doi", "pmid")


class RequestForm(forms.Form):
    """What a patron asks for. The citation by field, or pasted whole (or both)."""

    request_type = forms.ChoiceField(
        label=_("What do you need?"), widget=forms.RadioSelect, initial="loan",
        choices=[("loan", _("A book to borrow")), ("article", _("A copy of an article")),
                 ("chapter", _("A copy of a book chapter"))])
    citation_text = forms.CharField(
        label=_("Paste the citation"), required=False, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Paste a reference as it is, or fill in the fields below (or both). We "
                    "keep what you paste."))
    title = forms.CharField(label=_("Title of the book or journal"), required=False,
                            max_length=500)
    author = forms.CharField(label=_("Author of the book"), required=False, max_length=300)
    article_title = forms.CharField(label=_("Title of the article or chapter"),
                                    required=False, max_length=500)
    article_author = forms.CharField(label=_("Author of the article or chapter"),
                                     required=False, max_length=300)
    year = forms.CharField(label=_("Year"), required=False, max_length=20)
    volume = forms.CharField(label=_("Volume"), required=False, max_length=50)
    issue = forms.CharField(label=_("Issue"), required=False, max_length=50)
    pages = forms.CharField(label=_("Pages"), required=False, max_length=50)
    edition = forms.CharField(label=_("Edition"), required=False, max_length=100)
    publisher = forms.CharField(label=_("Publisher"), required=False, max_length=300)
    isbn = forms.CharField(label=_("ISBN"), required=False, max_length=20)
    issn = forms.CharField(label=_("ISSN"), required=False, max_length=20)
    doi = forms.CharField(label=_("DOI"), required=False, max_length=200)
    pmid = forms.CharField(label=_("PMID"), required=False, max_length=30)
    delivery = forms.ChoiceField(label=_("How do you want to get it?"),
                                 widget=forms.RadioSelect, initial="pickup",
                                 choices=[("pickup", _("I pick it up at a library desk"))])
    pickup_desk = forms.ModelChoiceField(label=_("Pickup desk"), queryset=None,
                                         required=False)
    needed_before = forms.DateField(label=_("Needed by (optional)"), required=False,
                                    widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note to the library (optional)"), required=False,
                           max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    copyright_accepted = forms.BooleanField(label=_("I accept the copyright declaration"),
                                            required=False)

    def __init__(self, *args, patron, office_allowed: bool, declaration: str, **kwargs):
        super().__init__(*args, **kwargs)
        desks = CirculationDesk.objects.filter(institution_id=patron.institution_id,
                                               is_pickup_point=True).order_by("name")
        self.fields["pickup_desk"].queryset = desks
        self.fields["pickup_desk"].initial = patron.pickup_desk_id
        self.fields["pickup_desk"].label_from_instance = lambda d: d.name
        if office_allowed:
            self.fields["delivery"].choices = [
                *self.fields["delivery"].choices,
                ("office", _("Deliver it to my office by internal mail"))]
        self.declaration = declaration
        if declaration:
            self.fields["copyright_accepted"].help_text = declaration
        else:
            del self.fields["copyright_accepted"]

    def clean(self):
        data = super().clean()
        if not (data.get("title") or "").strip() and not (data.get("citation_text") or
                                                           "").strip():
            self.add_error("title", _("Give the title, or paste the citation above."))
        if data.get("delivery") == "pickup" and not data.get("pickup_desk"):
            self.add_error("pickup_desk", _("Choose where you pick it up."))
        if (self.declaration and data.get("request_type") in ("article", "chapter")
                and not data.get("copyright_accepted")):
            self.add_error("copyright_accepted",
                           _("Accept the copyright declaration to ask for a copy."))
        return data

    def citation(self) -> dict:
        data = self.cleaned_data
        return {name: data.get(name, "") for name in (*CITATION_FIELDS, "citation_text")}
