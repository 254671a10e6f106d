from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class KaukoConfig(AppConfig):
    name = "kauko"
    verbose_name = _("Kauko")

    def ready(self):
        from kauko import tasks  # noqa: F401 (registers the letters' delivery tasks)
        from kauko.roles import ensure_roles

        # Roles are data every deployment needs; keep them in step with the permissions
        # after every migrate instead of in a migration that would go stale.
        post_migrate.connect(ensure_roles, dispatch_uid="kauko.ensure_roles")
