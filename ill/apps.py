from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IllConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ill"
    verbose_name = _("Interlibrary loan")

    def ready(self):
        from circulation.hooks import register_ill_bridge
        from ill.borrowing.bridge import BorrowingBridge

        # The desk tells ILL about temporary ILL items through this bridge (fulfillment
        # never imports ill).
        register_ill_bridge(BorrowingBridge())
        from ill.outbox import tasks as iso_tasks  # noqa: F401  (registers the ISO 18626 delivery tasks)
