from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CirculationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "circulation"
    verbose_name = _("Circulation desk")

    def ready(self):
        from circulation.letters import register_letter_types

        register_letter_types()
