from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IllConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ill"
    verbose_name = _("Interlibrary loan")

    def ready(self):
        from circulation.hooks import register_ill_bridge
        from ill.borrowing import letters as borrowing_letters
        from ill.borrowing import tasks as borrowing_tasks  # noqa: F401 (registers its jobs)
        from ill.borrowing.bridge import BorrowingBridge
        from ill.inbound import tasks as inbound_tasks  # noqa: F401 (registers the pruning job)
        from ill.lending import letters as lending_letters
        from ill.lending import tasks as lending_tasks  # noqa: F401 (registers the lending jobs)
        from ill.outbox import tasks as outbox_tasks  # noqa: F401 (registers the delivery tasks)

        # The desk tells ILL about temporary ILL items through this bridge (circulation
        # never imports ill).
        register_ill_bridge(BorrowingBridge())
        borrowing_letters.register_letter_types()
        lending_letters.register_letter_types()
