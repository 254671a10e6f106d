"""Letter templates (editable, with a preview) and sent letters (read-only) in the admin."""

from __future__ import annotations

from types import SimpleNamespace

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kauko import roles
from kauko.admin_mixins import InstitutionScopedAdmin, RecordAdmin, is_operator
from kauko.letters import (
    LetterSource,
    UnknownLetterType,
    default_template,
    letter_type,
    letter_types,
    preview_letter,
    render_source,
)
from kauko.models import LANGUAGE_CHOICES, Institution, LetterTemplate, SentLetter, StaffUser

AUDIENCE_LABELS = {"patron": _("Patron"), "partner": _("Partner library"), "staff": _("Staff")}


def _code_choices():
    # Called on every form build, so types registered by any app show up.
    return [("", "---------")] + [
        (t.code, f"{t.name} ({t.code})") for t in letter_types()]


def _example_institution():
    """Stands in for the institution when the deployment's operator (who has none) previews."""
    return SimpleNamespace(name=gettext("Example University Library"), email="ill@example.org",
                           time_zone=settings.TIME_ZONE, default_language="en", pk=None)


class LetterTemplateForm(forms.ModelForm):
    code = forms.ChoiceField(label=_("letter type"), choices=_code_choices)

    class Meta:
        model = LetterTemplate
        # All fields: the admin drops "institution" for staff and keeps it for the operator.
        fields = "__all__"  # noqa: DJ007
        widgets = {
            "subject": forms.TextInput(attrs={"size": 90}),
            "text": forms.Textarea(attrs={"rows": 22, "cols": 90, "class": "vLargeTextField"}),
            "html": forms.Textarea(attrs={"rows": 12, "cols": 90, "class": "vLargeTextField"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Empty subject and text on a new template mean "start from Kauko's default".
        self.fields["subject"].required = False
        self.fields["text"].required = False
        self.fields["text"].help_text = _(
            "Django template language: {{ request.number }}, {% if message %}…{% endif %}. "
            "Leave subject and text empty to start from Kauko's default wording. The names "
            "you can use are listed under “Letter types”.")

    def clean(self):
        data = super().clean()
        code, language = data.get("code"), data.get("language")
        if not code or not language:
            return data
        if not data.get("subject") and not data.get("text"):
            default = default_template(code, language)
            if default is not None:
                data["subject"] = default.subject.strip()
                data["text"], data["html"] = default.text, data.get("html") or default.html
        for name in ("subject", "text"):
            if not data.get(name):
                self.add_error(name, forms.Field.default_error_messages["required"])
        # The institution is not a form field for staff, so Django's own unique check
        # skips the (institution, code, language) constraint; check it here instead of
        # failing with a database error.
        institution_id = getattr(data.get("institution"), "pk", None) or \
            self.instance.institution_id
        clash = LetterTemplate.objects.filter(
            institution_id=institution_id, code=code, language=language,
        ).exclude(pk=self.instance.pk)
        if institution_id and clash.exists():
            raise forms.ValidationError(
                _("This institution already has a template for this letter type and "
                  "language: edit that one."))
        return data


@admin.register(LetterTemplate)
class LetterTemplateAdmin(InstitutionScopedAdmin):
    form = LetterTemplateForm
    list_display = ["code", "type_name", "language", "subject", "active", "updated_at"]
    list_filter = ["code", "language", "active"]
    search_fields = ["code", "subject", "text"]

    @admin.display(description=_("name"))
    def type_name(self, obj):
        try:
            return letter_type(obj.code).name
        except UnknownLetterType:
            return "?"

    def get_changeform_initial_data(self, request):
        # ?code=…&language=… (the "Customize" links on the letter types page) pre-fill the
        # form with Kauko's default wording.
        initial = super().get_changeform_initial_data(request)
        code, language = request.GET.get("code"), request.GET.get("language")
        if code and language:
            default = default_template(code, language)
            if default is not None:
                initial.update(subject=default.subject.strip(), text=default.text,
                               html=default.html)
        return initial

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("letter-types/", view(self.letter_types_view),
                 name="kauko_lettertemplate_types"),
            path("letter-types/<str:code>/<str:language>/preview/",
                 view(self.default_preview_view), name="kauko_lettertemplate_default_preview"),
            path("<path:object_id>/preview/", view(self.preview_view),
                 name="kauko_lettertemplate_preview"),
            *super().get_urls(),
        ]

    def _preview_response(self, request, *, title, letter=None, error="", obj=None,
                          code="", language=""):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta, "title": title, "letter": letter, "error": error,
            "original": obj, "code": code, "language": language,
            "languages": LANGUAGE_CHOICES,
        }
        return TemplateResponse(request, "admin/kauko/lettertemplate/preview.html", context)

    def preview_view(self, request, object_id):
        # get_object goes through the institution-scoped queryset: another institution's
        # template is "not found".
        obj = self.get_object(request, object_id)
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404
        letter, error = None, ""
        try:
            source = LetterSource(subject=obj.subject, text=obj.text, html=obj.html,
                                  language=obj.language, origin="institution")
            letter = render_source(source, institution=obj.institution,
                                   context=letter_type(obj.code).sample_context())
        except Exception as exc:  # show the admin what is wrong instead of a server error
            error = str(exc)
        return self._preview_response(
            request, title=gettext("Preview: %(template)s") % {"template": obj},
            letter=letter, error=error, obj=obj, code=obj.code, language=obj.language)

    def default_preview_view(self, request, code, language):
        """What this institution would send now: its own template or Kauko's default."""
        if not self.has_view_permission(request):
            raise Http404
        try:
            letter_type(code)
        except UnknownLetterType:
            raise Http404 from None
        institution = getattr(request.user, "institution", None) or _example_institution()
        letter, error = None, ""
        try:
            letter = preview_letter(institution=institution, code=code, language=language)
        except Exception as exc:
            error = str(exc)
        return self._preview_response(
            request, title=gettext("Preview: %(code)s (%(language)s)") % {
                "code": code, "language": language},
            letter=letter, error=error, code=code, language=language)

    def letter_types_view(self, request):
        if not self.has_view_permission(request):
            raise Http404
        own = {(t.code, t.language): t for t in self.get_queryset(request)}
        can_add = self.has_add_permission(request)
        rows = []
        for t in letter_types():
            languages = []
            for lang, label in LANGUAGE_CHOICES:
                template = own.get((t.code, lang))
                if template is not None:
                    edit_url = reverse("admin:kauko_lettertemplate_change", args=[template.pk])
                elif can_add:
                    edit_url = reverse("admin:kauko_lettertemplate_add") + "?" + urlencode(
                        {"code": t.code, "language": lang})
                else:
                    edit_url = ""
                languages.append({
                    "code": lang, "label": label, "template": template, "edit_url": edit_url,
                    "preview_url": reverse("admin:kauko_lettertemplate_default_preview",
                                           args=[t.code, lang]),
                })
            sample = t.sample_context()
            # Each name with the attributes its sample has (request: number, title, …).
            names = [(name, list(vars(sample[name])) if isinstance(
                sample.get(name), SimpleNamespace) else []) for name in t.context_names()]
            rows.append({"type": t, "audience": AUDIENCE_LABELS.get(t.audience, t.audience),
                         "names": names, "languages": languages})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta, "title": gettext("Letter types"), "rows": rows,
        }
        return TemplateResponse(request, "admin/kauko/lettertemplate/letter_types.html",
                                context)


@admin.register(SentLetter)
class SentLetterAdmin(RecordAdmin):
    list_display = ["sent_at", "code", "to", "subject", "status", "sent_by"]
    list_filter = ["code", "status", "sent_at"]
    search_fields = ["to", "cc", "subject"]
    date_hierarchy = "sent_at"
    list_select_related = ["sent_by"]
    fields = ["sent_at", "status", "error", "code", "language", "to", "cc", "sent_by",
              "about_display", "subject", "text", "html_preview"]
    readonly_fields = fields

    @admin.display(description=_("about"))
    def about_display(self, obj):
        about = obj.about
        return str(about) if about is not None else "-"

    @admin.display(description=_("HTML"))
    def html_preview(self, obj):
        if not obj.html:
            return "-"
        # Sandboxed: a letter's HTML is shown, never run.
        return format_html(
            '<iframe sandbox srcdoc="{}" style="width:100%;min-width:40em;height:28em;'
            'border:1px solid #ccc;background:#fff"></iframe>', obj.html)


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "agency_id_type", "agency_id_value", "time_zone", "languages"]
    search_fields = ["name", "code", "agency_id_value"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.institution_id is None and request.user.is_superuser:
            return qs
        return qs.filter(pk=request.user.institution_id)

    def has_add_permission(self, request):
        return request.user.is_superuser and request.user.institution_id is None

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and request.user.institution_id is None


@admin.register(StaffUser)
class StaffUserAdmin(UserAdmin):
    """The operator manages every account. A role that manages staff (the configuration
    admin) sees only its own institution's accounts, never a superuser's, and gives only
    Kauko's roles: no superuser flag, no single permissions, no other institution."""

    fieldsets = UserAdmin.fieldsets + ((_("Institution"), {"fields": ("institution",)}),)
    add_fieldsets = UserAdmin.add_fieldsets + ((_("Institution"), {"fields": ("institution",)}),)
    staff_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Roles"), {"fields": ("is_active", "is_staff", "groups")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    list_display = ["username", "get_full_name", "institution", "is_staff", "is_active"]
    list_filter = ["institution", "groups", "is_staff", "is_active"]
    list_select_related = ["institution"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if is_operator(request):
            return qs
        if request.user.institution_id is None:
            return qs.none()
        return qs.filter(institution_id=request.user.institution_id, is_superuser=False)

    def get_fieldsets(self, request, obj=None):
        if is_operator(request):
            return super().get_fieldsets(request, obj)
        return UserAdmin.add_fieldsets if obj is None else self.staff_fieldsets

    def get_list_filter(self, request):
        if is_operator(request):
            return self.list_filter
        return ["groups", "is_staff", "is_active"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups" and not is_operator(request):
            kwargs["queryset"] = Group.objects.filter(name__in=roles.ROLE_LABELS)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not is_operator(request):
            obj.institution_id = request.user.institution_id
            obj.is_superuser = False
        super().save_model(request, obj, form, change)
