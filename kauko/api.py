"""Shared pieces of the REST API: every endpoint is institution-scoped, writes are validated
exactly as the admin's forms validate them, and what cannot be deleted is a clear 409."""

from __future__ import annotations

import copy

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.settings import api_settings


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("This cannot be done in the record's current state.")
    default_code = "conflict"


class ModelCleanSerializer(serializers.ModelSerializer):
    """Runs the model's `full_clean()` (field validators, `clean()`, unique constraints) on
    the object as it would be saved, as the admin's ModelForm does, so the API can write
    nothing the admin would refuse. The object belongs to the caller's institution."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model = self.Meta.model
        instance = copy.copy(self.instance) if self.instance is not None else model()
        request = self.context.get("request")
        if getattr(instance, "institution_id", "") is None and request is not None:
            instance.institution = request.user.institution
        many = set()
        for name, value in attrs.items():
            field = model._meta.get_field(name)
            if field.many_to_many:
                many.add(name)
            else:
                setattr(instance, name, value)
        try:
            instance.full_clean(exclude=many)
        except DjangoValidationError as exc:
            errors = serializers.as_serializer_error(exc)
            if NON_FIELD_ERRORS in errors:
                errors[api_settings.NON_FIELD_ERRORS_KEY] = errors.pop(NON_FIELD_ERRORS)
            raise serializers.ValidationError(errors) from exc
        return attrs


class InstitutionScopedViewSet(viewsets.ModelViewSet):
    """A model viewset that only ever sees and writes the user's institution."""

    def get_queryset(self):
        return super().get_queryset().filter(institution=self.request.user.institution)

    def perform_create(self, serializer):
        serializer.save(institution=self.request.user.institution)

    def perform_destroy(self, instance):
        try:
            with transaction.atomic():
                instance.delete()
        except (ProtectedError, RestrictedError) as exc:
            kinds = sorted({str(type(obj)._meta.verbose_name_plural)
                            for obj in exc.protected_objects if hasattr(obj, "_meta")})
            raise Conflict(_("“%(object)s” cannot be deleted: %(what)s refer to it. Make it "
                             "inactive instead.") % {
                "object": instance, "what": ", ".join(kinds)}) from exc
