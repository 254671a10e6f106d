from rest_framework import serializers

from fulfillment.models import Item, ItemBarcode, Location
from fulfillment.selectors import items_by_barcode
from kauko.api import InstitutionScopedViewSet


class ItemBarcodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ItemBarcode
        fields = ["barcode", "kind"]


class ItemSerializer(serializers.ModelSerializer):
    title = serializers.CharField(source="bib.title", read_only=True)
    barcodes = ItemBarcodeSerializer(many=True, read_only=True)
    location = serializers.StringRelatedField()
    permanent_location = serializers.StringRelatedField()

    class Meta:
        model = Item
        fields = ["id", "title", "status", "location", "permanent_location", "call_number",
                  "item_policy", "is_temporary", "barcodes"]
        read_only_fields = fields


class ItemViewSet(InstitutionScopedViewSet):
    """Items of the user's institution; `?barcode=` finds an item by any of its barcodes."""

    queryset = Item.objects.select_related(
        "bib", "location__library", "permanent_location__library"
    ).prefetch_related("barcodes").order_by("pk")
    serializer_class = ItemSerializer
    http_method_names = ["get", "head", "options"]

    def get_queryset(self):
        barcode = self.request.query_params.get("barcode")
        if barcode:
            return items_by_barcode(institution=self.request.user.institution, barcode=barcode)
        return super().get_queryset()


class LocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Location
        fields = ["id", "code", "name", "library", "fulfillment_unit"]
