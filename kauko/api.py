"""Shared pieces of the REST API: every endpoint is institution-scoped."""

from rest_framework import viewsets


class InstitutionScopedViewSet(viewsets.ModelViewSet):
    """A model viewset that only ever sees and writes the user's institution."""

    def get_queryset(self):
        return super().get_queryset().filter(institution=self.request.user.institution)

    def perform_create(self, serializer):
        serializer.save(institution=self.request.user.institution)
