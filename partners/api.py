from kauko.api import InstitutionScopedViewSet, ModelCleanSerializer
from partners.models import Partner


class PartnerSerializer(ModelCleanSerializer):
    class Meta:
        model = Partner
        fields = ["id", "code", "name", "active", "profile_type", "agency_id_type",
                  "agency_id_value", "iso_endpoint_url", "iso_version", "email",
                  "average_supply_days", "mail_delay_days", "is_international"]


class PartnerViewSet(InstitutionScopedViewSet):
    queryset = Partner.objects.order_by("name")
    serializer_class = PartnerSerializer
