from rest_framework import serializers

from kauko.api import InstitutionScopedViewSet
from patrons.models import Patron


class PatronSerializer(serializers.ModelSerializer):
    group = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Patron
        fields = ["id", "first_name", "last_name", "barcode", "email", "group",
                  "preferred_language", "expiry_date"]
        read_only_fields = ["group"]


class PatronViewSet(InstitutionScopedViewSet):
    queryset = Patron.objects.select_related("group").order_by("last_name", "first_name")
    serializer_class = PatronSerializer
    http_method_names = ["get", "head", "options"]
