"""Strings that third-party apps show in the admin but ship no Finnish or Swedish for.

Listed here only so that `make messages` extracts them into our catalogues; Django finds
a translation in LOCALE_PATHS before an app's own. Nothing imports this module.
"""

from django.utils.translation import gettext_noop

THIRD_PARTY_STRINGS = [
    # django-celery-beat (the admin's "Periodic tasks" section)
    gettext_noop("Periodic Tasks"),
    gettext_noop("periodic task"),
    gettext_noop("periodic tasks"),
    gettext_noop("interval"),
    gettext_noop("intervals"),
    gettext_noop("crontab"),
    gettext_noop("crontabs"),
    gettext_noop("solar event"),
    gettext_noop("solar events"),
    gettext_noop("clocked"),
    gettext_noop("periodic task track"),
    gettext_noop("periodic task tracks"),
]
