from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from kauko.admin_mixins import InstitutionScopedAdmin, is_operator
from partners.models import LocateProfile, Partner, TemporaryItemRule, WorkflowProfile


class PartnerAdminForm(forms.ModelForm):
    new_security_code = forms.CharField(
        label=_("new inbound security code"), required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Set or replace the securityCode the partner must send. Stored hashed: "
                    "it cannot be shown again. Leave empty to keep the current one."))
    new_token = forms.CharField(
        label=_("new inbound HTTP token"), required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Set or replace a bearer token the partner must send in the Authorization "
                    "header. Stored hashed."))
    clear_credentials = forms.BooleanField(
        label=_("remove inbound credentials"), required=False,
        help_text=_("Accept this partner's messages without credentials again."))
    generate_credentials = forms.BooleanField(
        label=_("generate new inbound credentials"), required=False,
        help_text=_("A new account id, security code and HTTP token, shown once after "
                    "saving. A new ISO 18626 partner given none gets them anyway."))

    class Meta:
        model = Partner
        fields = "__all__"  # noqa: DJ007 - the admin narrows it to its fieldsets

    def save(self, commit=True):
        partner = super().save(commit=False)
        if self.cleaned_data.get("clear_credentials"):
            partner.set_inbound_security_code("")
            partner.set_inbound_token("")
        if self.cleaned_data.get("new_security_code"):
            partner.set_inbound_security_code(self.cleaned_data["new_security_code"])
        if self.cleaned_data.get("new_token"):
            partner.set_inbound_token(self.cleaned_data["new_token"])
        # ISO 18626 partners get credentials by default: a new one given none (and not
        # told to accept messages without them) has them made, shown once.
        self.generated = None
        new_unguarded = (partner._state.adding and partner.is_iso
                         and not partner.requires_authentication
                         and not self.cleaned_data.get("clear_credentials"))
        if self.cleaned_data.get("generate_credentials") or new_unguarded:
            self.generated = partner.new_inbound_credentials()
        if commit:
            partner.save()
        return partner


class InboundCredentialsFilter(admin.SimpleListFilter):
    title = _("inbound credentials")
    parameter_name = "credentials"

    def lookups(self, request, model_admin):
        return [("missing", _("ISO 18626 without credentials")), ("set", _("set"))]

    def queryset(self, request, queryset):
        none = {"inbound_security_code_hash": "", "inbound_token_hash": ""}
        if self.value() == "missing":
            return queryset.filter(profile_type=Partner.ProfileType.ISO18626, **none)
        if self.value() == "set":
            return queryset.exclude(**none)
        return queryset


@admin.register(Partner)
class PartnerAdmin(InstitutionScopedAdmin):
    form = PartnerAdminForm
    list_display = ["name", "code", "profile_type", "agency_id_value", "iso_version", "active",
                    "is_international", "mail_delay_days", "credentials_set"]
    list_filter = ["active", "profile_type", InboundCredentialsFilter, "is_international",
                   "iso_version"]
    search_fields = ["name", "code", "agency_id_value", "email"]
    fieldsets = [
        (None, {"fields": ["code", "name", "active", "profile_type", "is_international",
                           "language", "notes"]}),
        (_("Contact"), {"fields": ["email", "address", "return_address", "billing_address"]}),
        (_("ISO 18626"), {"fields": ["agency_id_type", "agency_id_value", "iso_endpoint_url",
                                     "iso_version"]}),
        (_("Workflow"), {"fields": ["borrowing_profile", "lending_profile",
                                    "average_supply_days", "mail_delay_days"]}),
        (_("Billing"), {"fields": ["agreement", "price", "currency"]}),
        (_("Credentials the partner must send us"), {
            "fields": ["inbound_account_id", "new_security_code", "new_token",
                       "generate_credentials", "clear_credentials"]}),
        (_("Credentials we send the partner"), {
            "classes": ["collapse"],
            "fields": ["outbound_account_id", "outbound_security_code", "outbound_token"]}),
    ]

    @admin.display(boolean=True, description=_("credentials"))
    def credentials_set(self, obj):
        # A tick, a cross for an ISO 18626 partner without them, nothing for e-mail ones.
        return obj.requires_authentication if obj.is_iso else None

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        generated = getattr(form, "generated", None)
        if generated:
            messages.warning(request, gettext(
                "Inbound credentials for %(partner)s — give them to the partner now, they "
                "cannot be shown again: accountId %(account_id)s, securityCode "
                "%(security_code)s, HTTP token (Authorization: Bearer) %(token)s.") % {
                "partner": obj, **generated})

    def changelist_view(self, request, extra_context=None):
        unguarded = list(self.get_queryset(request).filter(
            active=True, profile_type=Partner.ProfileType.ISO18626,
            inbound_security_code_hash="", inbound_token_hash="").values_list("name", flat=True))
        if unguarded and request.method == "GET":
            messages.warning(request, ngettext(
                "%(count)d ISO 18626 partner accepts messages without credentials: "
                "%(names)s. Anyone could send messages in its name.",
                "%(count)d ISO 18626 partners accept messages without credentials: "
                "%(names)s. Anyone could send messages in their name.",
                len(unguarded)) % {"count": len(unguarded), "names": ", ".join(unguarded)})
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        partner = self.get_object(request, object_id)
        if request.method == "GET" and partner is not None and partner.lacks_inbound_credentials:
            messages.warning(request, gettext(
                "This ISO 18626 partner has no inbound credentials: anyone could send "
                "messages in its name. Generate them below and give them to the partner."))
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(WorkflowProfile)
class WorkflowProfileAdmin(InstitutionScopedAdmin):
    list_display = ["name", "side", "use_will_supply", "use_conditional", "use_renew",
                    "auto_renew", "expire_after_days"]
    list_filter = ["side"]
    search_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["name", "side"]}),
        (_("Optional steps"), {"fields": ["use_will_supply", "use_conditional", "use_reject",
                                          "use_renew", "use_overdue", "use_recall",
                                          "use_lost_damaged", "use_cancel_response",
                                          "expire_after_days"]}),
        (_("Borrowing"), {"fields": ["send_received"]}),
        (_("Lending"), {"fields": ["auto_renew", "send_checked_in",
                                   "overdue_notice_resend_days"]}),
    ]


@admin.register(TemporaryItemRule)
class TemporaryItemRuleAdmin(InstitutionScopedAdmin):
    list_display = ["position", "name", "partner", "scope", "formats", "location",
                    "item_policy"]
    list_display_links = ["name"]
    ordering = ["position", "id"]


@admin.register(LocateProfile)
class LocateProfileAdmin(admin.ModelAdmin):
    """How we ask each partner's catalogue whether it holds a title (ill.borrowing.locate).
    Scoped through the partner: staff see and pick only their own institution's partners."""

    list_display = ["partner", "kind", "base_url", "sru_version", "timeout_seconds"]
    list_filter = ["kind", "sru_version"]
    search_fields = ["partner__name", "partner__code", "base_url"]
    list_select_related = ["partner"]
    fields = ["partner", "kind", "base_url", "sru_version", "timeout_seconds", "record_schema",
              ("isbn_index", "issn_index", "oclc_index"), ("title_index", "author_index")]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if is_operator(request):
            return qs
        return qs.filter(partner__institution=getattr(request.user, "institution", None))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "partner" and not is_operator(request):
            field.queryset = field.queryset.filter(
                institution=getattr(request.user, "institution", None))
        return field
