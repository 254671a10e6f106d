from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatronsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "patrons"
    verbose_name = _("Patrons")
