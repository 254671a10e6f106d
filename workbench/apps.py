from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    """Developers' and demos' tools: demo data, the mock ISO 18626 peer, benchmarks.

    An app only so that Django finds its management commands; it has no models, and nothing
    imports it."""

    name = "workbench"
    verbose_name = "Workbench"
