from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kauko.admin_mixins import InstitutionScopedAdmin
from partners.models import Partner, WorkflowProfile


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
        if commit:
            partner.save()
        return partner


@admin.register(Partner)
class PartnerAdmin(InstitutionScopedAdmin):
    form = PartnerAdminForm
    list_display = ["name", "code", "profile_type", "agency_id_value", "iso_version", "active",
                    "is_international", "mail_delay_days", "credentials_set"]
    list_filter = ["active", "profile_type", "is_international", "iso_version"]
    search_fields = ["name", "code", "agency_id_value", "email"]
    fieldsets = [
        (None, {"fields": ["code", "name", "active", "profile_type", "is_international",
                           "language", "notes"]}),
        (_("Contact"), {"fields": ["email", "address"]}),
        (_("ISO 18626"), {"fields": ["agency_id_type", "agency_id_value", "iso_endpoint_url",
                                     "iso_version"]}),
        (_("Workflow"), {"fields": ["borrowing_profile", "lending_profile",
                                    "average_supply_days", "mail_delay_days"]}),
        (_("Billing"), {"fields": ["agreement", "price", "currency"]}),
        (_("Credentials the partner must send us"), {
            "fields": ["inbound_account_id", "new_security_code", "new_token",
                       "clear_credentials"]}),
        (_("Credentials we send the partner"), {
            "classes": ["collapse"],
            "fields": ["outbound_account_id", "outbound_security_code", "outbound_token"]}),
    ]

    @admin.display(boolean=True, description=_("credentials"))
    def credentials_set(self, obj):
        return obj.requires_authentication


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
