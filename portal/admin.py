import secrets

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kauko.admin_mixins import InstitutionScopedAdmin, is_operator
from portal.models import ApiClient, PatronPin, PortalSettings
from portal.services import (
    API_TOKEN_PREFIX,
    MIN_PIN_LENGTH,
    api_client_new_token,
    hash_api_token,
)


class PatronPinForm(forms.ModelForm):
    new_pin = forms.CharField(
        label=_("new PIN"), required=False, min_length=MIN_PIN_LENGTH, max_length=50,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Digits only, at least %(n)s. Stored hashed: nobody can read it back. "
                    "Setting it also lifts a lock after too many wrong PINs.")
        % {"n": MIN_PIN_LENGTH})

    class Meta:
        model = PatronPin
        fields = ["patron"]

    def clean_new_pin(self):
        pin = self.cleaned_data["new_pin"].strip()
        if pin and not pin.isdigit():
            raise forms.ValidationError(_("A PIN has digits only."))
        if not pin and not self.instance.pin_hash:
            raise forms.ValidationError(_("Give the patron a PIN."))
        return pin


@admin.register(PatronPin)
class PatronPinAdmin(InstitutionScopedAdmin):
    form = PatronPinForm
    list_display = ["patron", "changed_at", "last_sign_in", "failures"]
    search_fields = ["patron__last_name", "patron__first_name", "patron__barcode"]
    raw_id_fields = ["patron"]
    readonly_fields = ["changed_at", "last_sign_in", "failures"]
    list_select_related = ["patron"]

    def save_model(self, request, obj, form, change):
        if form.cleaned_data.get("new_pin"):
            obj.set_pin(form.cleaned_data["new_pin"])
        if is_operator(request):
            obj.institution_id = obj.patron.institution_id
        super().save_model(request, obj, form, change)


@admin.register(PortalSettings)
class PortalSettingsAdmin(admin.ModelAdmin):
    list_display = ["institution", "own_holdings"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if is_operator(request) else qs.filter(
            institution_id=getattr(request.user, "institution_id", None))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "institution" and not is_operator(request):
            field.queryset = field.queryset.filter(
                pk=getattr(request.user, "institution_id", None))
        return field





@admin.register(ApiClient)
class ApiClientAdmin(InstitutionScopedAdmin):
    list_display = ["name", "scopes", "token_prefix", "created_at", "last_used_at", "revoked_at"]
    fields = ["name", "scopes", "token_prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["token_prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke", "issue_new_token"]

    def save_model(self, request, obj, form, change):
        token = None
        if not change:
            token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
            obj.token_hash, obj.token_prefix = hash_api_token(token), token[:12]
        super().save_model(request, obj, form, change)
        if token:
            messages.warning(request, _(
                "The token of %(name)s, shown only now (copy it; only its hash is kept): "
                "%(token)s") % {"name": obj.name, "token": token})

    @admin.action(description=_("Revoke: the token stops working at once"))
    def revoke(self, request, queryset):
        n = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        messages.success(request, _("%(n)s API clients revoked.") % {"n": n})

    @admin.action(description=_("Issue a new token (the old one stops working)"))
    def issue_new_token(self, request, queryset):
        for client in queryset:
            token = api_client_new_token(client=client)
            messages.warning(request, _(
                "The new token of %(name)s, shown only now: %(token)s") % {
                "name": client.name, "token": token})
