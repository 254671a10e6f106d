"""API permissions (kept apart from viewsets: DRF imports it while loading itself)."""

from rest_framework import permissions


class IsInstitutionStaff(permissions.DjangoModelPermissions):
    """Logged-in staff of an institution, with the model permission for the method.

    Unlike DRF's default, viewing needs the `view` permission too.
    """

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.institution_id):
            return False
        if getattr(view, "queryset", None) is None and not hasattr(view, "get_queryset"):
            return True
        return super().has_permission(request, view)
