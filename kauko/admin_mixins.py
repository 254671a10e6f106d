"""Institution scoping for the Django admin.

Staff see, pick and save only their own institution's records. A superuser without an
institution (the deployment's operator) sees everything and sets the institution by hand.
Another institution's object is simply "not found", whichever URL is guessed.
"""

from __future__ import annotations

from django.contrib import admin


def _user_institution(request):
    user = request.user
    return getattr(user, "institution", None)


def is_operator(request) -> bool:
    """The deployment's operator: a superuser of no institution, who sees all of them."""
    return request.user.is_superuser and _user_institution(request) is None


def _scoped(model) -> bool:
    return any(f.name == "institution" for f in model._meta.concrete_fields)


class _ScopedFormFieldsMixin:
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        self._limit_choices(formfield, db_field, request)
        return formfield

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)
        self._limit_choices(formfield, db_field, request)
        return formfield

    def _limit_choices(self, formfield, db_field, request):
        if formfield is None or is_operator(request):
            return
        related = db_field.remote_field.model
        institution = _user_institution(request)
        if related._meta.label == "kauko.Institution":
            formfield.queryset = formfield.queryset.filter(pk=getattr(institution, "pk", None))
        elif _scoped(related):
            formfield.queryset = formfield.queryset.filter(institution=institution)


class InstitutionScopedAdmin(_ScopedFormFieldsMixin, admin.ModelAdmin):
    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if is_operator(request):
            return qs
        return qs.filter(institution=_user_institution(request))

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if not is_operator(request):
            exclude.append("institution")
        return exclude

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        if is_operator(request):
            filters.insert(0, "institution")
        return filters

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        institution = _user_institution(request)
        if institution is None or is_operator(request):
            return form

        class ScopedForm(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, **kw)
                # Set before validation so model.clean() can check cross-institution links.
                if self.instance.institution_id is None:
                    self.instance.institution = institution

        return ScopedForm

    def save_model(self, request, obj, form, change):
        if not is_operator(request):
            obj.institution = _user_institution(request)
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for instance in instances:
            if _scoped(type(instance)) and not instance.institution_id:
                instance.institution_id = form.instance.institution_id
            instance.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()


class InstitutionScopedInline(_ScopedFormFieldsMixin):
    """Mix into TabularInline / StackedInline of institution-scoped models."""

    exclude = ("institution",)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        institution_id = getattr(obj, "institution_id", None) or getattr(
            _user_institution(request), "pk", None
        )

        class ScopedFormSet(formset):
            def _construct_form(self, i, **kw):
                form = super()._construct_form(i, **kw)
                if form.instance.institution_id is None and institution_id:
                    form.instance.institution_id = institution_id
                return form

        return ScopedFormSet


class RecordAdmin(InstitutionScopedAdmin):
    """A record of what happened (a letter sent, a message exchanged): shown, never added,
    edited or deleted by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
