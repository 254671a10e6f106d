from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from fulfillment.models import (
    BibRecord,
    CirculationDesk,
    FulfillmentUnit,
    FulfillmentUnitRule,
    Holding,
    Item,
    ItemBarcode,
    Library,
    Location,
    TermsOfUse,
)
from kauko.admin_mixins import InstitutionScopedAdmin, InstitutionScopedInline


class LocationInline(InstitutionScopedInline, admin.TabularInline):
    model = Location
    fk_name = "library"
    extra = 0
    fields = ["code", "name", "fulfillment_unit"]
    show_change_link = True


class DeskInline(InstitutionScopedInline, admin.TabularInline):
    model = CirculationDesk
    extra = 0
    fields = ["code", "name", "has_hold_shelf", "is_pickup_point", "pickup_days"]


@admin.register(Library)
class LibraryAdmin(InstitutionScopedAdmin):
    list_display = ["name", "code", "is_rs_library"]
    list_filter = ["is_rs_library"]
    search_fields = ["name", "code"]
    inlines = [LocationInline, DeskInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "address", "is_rs_library"]}),
        (_("Resource sharing settings"), {
            "description": _("Only for resource sharing libraries."),
            "fields": ["incoming_location", "outgoing_location", "may_ship_to_partners",
                       "may_ship_to_office", "other_desks_may_loan"],
        }),
    ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        obj_id = request.resolver_match.kwargs.get("object_id")
        if db_field.name in ("incoming_location", "outgoing_location") and formfield:
            formfield.queryset = formfield.queryset.filter(library_id=obj_id)
            formfield.help_text = str(db_field.help_text) + " " + str(
                _("Save the library with its locations first, then pick them here."))
        return formfield


@admin.register(Location)
class LocationAdmin(InstitutionScopedAdmin):
    list_display = ["name", "code", "library", "fulfillment_unit"]
    list_filter = [("library", admin.RelatedOnlyFieldListFilter),
                   ("fulfillment_unit", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "code"]
    list_select_related = ["library", "fulfillment_unit"]


@admin.register(CirculationDesk)
class CirculationDeskAdmin(InstitutionScopedAdmin):
    list_display = ["name", "code", "library", "has_hold_shelf", "is_pickup_point", "pickup_days"]
    list_filter = [("library", admin.RelatedOnlyFieldListFilter), "has_hold_shelf"]
    search_fields = ["name", "code"]
    list_select_related = ["library"]


class FulfillmentUnitLocationInline(InstitutionScopedInline, admin.TabularInline):
    model = Location
    fk_name = "fulfillment_unit"
    extra = 0
    fields = ["library", "code", "name"]
    verbose_name_plural = _("locations in this unit")
    show_change_link = True


class FulfillmentUnitRuleInline(InstitutionScopedInline, admin.TabularInline):
    model = FulfillmentUnitRule
    extra = 1
    fields = ["position", "name", "patron_group_codes", "item_policy_codes", "terms_of_use"]
    ordering = ["position"]


@admin.register(FulfillmentUnit)
class FulfillmentUnitAdmin(InstitutionScopedAdmin):
    list_display = ["name", "code", "description"]
    search_fields = ["name", "code"]
    inlines = [FulfillmentUnitRuleInline, FulfillmentUnitLocationInline]


@admin.register(TermsOfUse)
class TermsOfUseAdmin(InstitutionScopedAdmin):
    list_display = ["name", "loan_period_days", "renewable", "max_renewals",
                    "max_total_loan_days", "renewal_window_days", "self_service_allowed",
                    "pickup_days", "auto_renew_patron_groups"]
    list_filter = ["renewable", "self_service_allowed"]
    search_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["name"]}),
        (_("Loan"), {"fields": ["loan_period_days", "self_service_allowed", "pickup_days"]}),
        (_("Renewals"), {"fields": ["renewable", "max_renewals", "max_total_loan_days",
                                    "renewal_window_days", "auto_renew_patron_groups"]}),
    ]


class HoldingInline(InstitutionScopedInline, admin.TabularInline):
    model = Holding
    extra = 0
    fields = ["location", "call_number"]
    show_change_link = True


@admin.register(BibRecord)
class BibRecordAdmin(InstitutionScopedAdmin):
    list_display = ["title", "author", "year", "isbn", "issn", "format", "hidden"]
    list_filter = ["format", "hidden"]
    search_fields = ["title", "author", "isbn", "issn", "oclc_number", "doi"]
    inlines = [HoldingInline]


class ItemBarcodeInline(InstitutionScopedInline, admin.TabularInline):
    model = ItemBarcode
    extra = 1
    fields = ["barcode", "kind"]


@admin.register(Item)
class ItemAdmin(InstitutionScopedAdmin):
    list_display = ["__str__", "status", "location", "permanent_location", "call_number",
                    "is_temporary"]
    list_filter = ["status", "is_temporary", ("location", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["bib__title", "barcodes__barcode", "call_number"]
    list_select_related = ["bib", "location__library", "permanent_location__library"]
    raw_id_fields = ["bib", "holding"]
    inlines = [ItemBarcodeInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("barcodes")


@admin.register(Holding)
class HoldingAdmin(InstitutionScopedAdmin):
    list_display = ["bib", "location", "call_number"]
    search_fields = ["bib__title", "call_number"]
    list_select_related = ["bib", "location__library"]
    raw_id_fields = ["bib"]
