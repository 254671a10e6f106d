from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kauko.admin_mixins import InstitutionScopedAdmin, is_operator
from portal.models import PatronPin, PortalSettings
from portal.services import MIN_PIN_LENGTH


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



