"""Staff roles as groups with permissions.

Rules name an app and a model (or "*" for all of the app's models) and the actions allowed.
They are applied after every migrate, so models added later get their permissions without
anyone editing groups by hand.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext_lazy as _

RESOURCE_SHARING = "Resource sharing staff"
CIRCULATION = "Circulation desk"
CONFIGURATION = "Configuration admin"
ACQUISITIONS = "Acquisitions"

ROLE_LABELS = {
    RESOURCE_SHARING: _("Resource sharing staff"),
    CIRCULATION: _("Circulation desk"),
    CONFIGURATION: _("Configuration admin"),
    ACQUISITIONS: _("Acquisitions"),
}

ALL = ("view", "add", "change", "delete")
VIEW = ("view",)

# Configuration records: a configuration admin sets them up, others only look.
CONFIG_MODELS = {
    "fulfillment": ["library", "location", "circulationdesk", "fulfillmentunit",
                    "fulfillmentunitrule", "termsofuse"],
    "partners": ["*"],
    "patrons": ["patrongroup"],
    "ill": ["rotatemplate", "rotatemplateentry", "assignmentrule", "automationsettings"],
}

ROLE_RULES: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    RESOURCE_SHARING: [
        ("ill", "*", ("view", "add", "change")),
        ("fulfillment", "bibrecord", ALL),
        ("fulfillment", "holding", ALL),
        ("fulfillment", "item", ("view", "add", "change")),
        ("fulfillment", "itembarcode", ("view", "add", "change")),
        ("fulfillment", "*", VIEW),
        ("circulation", "*", VIEW),
        ("kauko", "institution", VIEW),
        ("partners", "*", VIEW),
        ("patrons", "*", VIEW),
        ("kauko", "sentletter", VIEW),
    ],
    CIRCULATION: [
        ("fulfillment", "item", ("view", "change")),
        ("fulfillment", "itembarcode", ("view", "add", "change")),
        ("fulfillment", "*", VIEW),
        ("circulation", "*", VIEW),
        ("kauko", "institution", VIEW),
        ("patrons", "patron", ("view", "add", "change")),
        ("patrons", "patronidentifier", ALL),
        ("patrons", "block", ALL),
        ("patrons", "*", VIEW),
        ("portal", "patronpin", ALL),
        ("ill", "*", VIEW),
        ("kauko", "sentletter", VIEW),
    ],
    CONFIGURATION: [
        ("kauko", "institution", ("view", "change")),
        *[(app, model, ALL) for app, models in CONFIG_MODELS.items() for model in models],
        ("fulfillment", "*", VIEW),
        ("circulation", "*", VIEW),
        ("patrons", "*", VIEW),
        ("kauko", "lettertemplate", ALL),
        # The own institution's staff accounts and their roles (kauko.admin.StaffUserAdmin
        # keeps superusers, permissions and other institutions out of reach).
        ("kauko", "staffuser", ("view", "add", "change")),
        ("kauko", "sentletter", VIEW),
        ("ill", "*", VIEW),
        ("django_celery_beat", "*", VIEW),
        ("portal", "portalsettings", ALL),
        ("portal", "apiclient", ALL),
    ],
    # Purchase requests ILL turned over: acquisitions see, export and mark them.
    ACQUISITIONS: [
        ("ill", "purchaserequest", ("view", "change")),
        ("patrons", "patron", VIEW),
        ("kauko", "institution", VIEW),
    ],
}


def permissions_for(rules) -> set[Permission]:
    perms: set[Permission] = set()
    all_perms = list(Permission.objects.select_related("content_type"))
    for app_label, model, actions in rules:
        for perm in all_perms:
            if perm.content_type.app_label != app_label:
                continue
            if model != "*" and perm.content_type.model != model:
                continue
            action = perm.codename.split("_", 1)[0]
            # Custom permissions (e.g. "override_block") follow the model's "change" rule.
            if action in ALL and action in actions or action not in ALL and "change" in actions:
                perms.add(perm)
    return perms


def ensure_roles(**kwargs) -> None:
    for name, rules in ROLE_RULES.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions_for(rules))
