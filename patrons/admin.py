from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kauko.admin_mixins import InstitutionScopedAdmin, InstitutionScopedInline
from patrons.models import Block, Patron, PatronGroup, PatronIdentifier


@admin.register(PatronGroup)
class PatronGroupAdmin(InstitutionScopedAdmin):
    list_display = ["name", "code", "loan_limit", "may_use_office_delivery"]
    search_fields = ["name", "code"]


class PatronIdentifierInline(InstitutionScopedInline, admin.TabularInline):
    model = PatronIdentifier
    extra = 0


class BlockInline(InstitutionScopedInline, admin.TabularInline):
    model = Block
    extra = 0
    fields = ["reason", "note", "amount_owed", "until"]


@admin.register(Patron)
class PatronAdmin(InstitutionScopedAdmin):
    list_display = ["__str__", "barcode", "group", "email", "expiry_date"]
    list_filter = [("group", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["first_name", "last_name", "barcode", "email", "identifiers__value"]
    list_select_related = ["group"]
    inlines = [PatronIdentifierInline, BlockInline]
    fieldsets = [
        (None, {"fields": ["first_name", "last_name", "group", "barcode", "email", "phone",
                           "preferred_language", "expiry_date"]}),
        (_("Pickup and delivery"), {"fields": ["home_library", "pickup_desk", "office_address"]}),
        (None, {"fields": ["notes"]}),
    ]


@admin.register(Block)
class BlockAdmin(InstitutionScopedAdmin):
    list_display = ["patron", "reason", "note", "amount_owed", "until", "created_at"]
    list_filter = ["reason"]
    search_fields = ["patron__last_name", "patron__barcode", "note"]
    raw_id_fields = ["patron"]
    list_select_related = ["patron"]
