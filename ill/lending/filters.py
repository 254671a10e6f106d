from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ill.models import LendingRequest
from ill.models.search import search
from partners.models import Partner

LR = LendingRequest


@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    where: Callable[[], Q]  # called each time: "overdue" depends on today

    @property
    def q(self) -> Q:
        return self.where()


def _overdue() -> Q:
    return Q(status=LR.S.OVERDUE) | Q(status__in=LR.AWAY, due_date__lt=timezone.localdate())


# The lending desk's daily checks, as ready-made queues.
QUEUES = {queue.key: queue for queue in [
    Queue("new", _("New"), lambda: Q(status__in=(LR.S.CREATED, LR.S.PROCESSING))),
    Queue("locate_failed", _("Locate failed"), lambda: Q(status=LR.S.LOCATE_FAILED)),
    Queue("pick_list", _("Pick list"),
          lambda: Q(status__in=LR.PICK_LIST, item__isnull=False,
                    pull_slip_printed_at__isnull=True)),
    Queue("conditional", _("Conditional"), lambda: Q(status=LR.S.CONDITIONAL)),
    Queue("renew_requested", _("Renew requested"), lambda: Q(status=LR.S.RENEW_REQUESTED)),
    Queue("returned", _("Returned by partner"), lambda: Q(status=LR.S.RETURNED)),
    Queue("overdue", _("Overdue"), _overdue),
    # What a partner's message parked for staff (a cancel asked while we pick the item…).
    Queue("attention", _("Needs attention"),
          lambda: Q(needs_attention=True) & ~Q(status__in=LR.FINAL)),
]}


class LendingRequestFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Number, partner's id, title, author, barcode or identifier"), method="search")
    queue = django_filters.ChoiceFilter(
        label=_("Queue"), method="in_queue",
        choices=[(key, queue.label) for key, queue in QUEUES.items()])
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=LR.Status.choices)
    partner = django_filters.ModelChoiceFilter(label=_("Partner"),
                                               queryset=Partner.objects.none())
    service_type = django_filters.ChoiceFilter(label=_("Service"),
                                               choices=LR.ServiceType.choices)
    created_after = django_filters.DateFilter(label=_("Created from"), field_name="created_at",
                                              lookup_expr="date__gte")
    created_before = django_filters.DateFilter(label=_("Created until"),
                                               field_name="created_at", lookup_expr="date__lte")
    overdue = django_filters.BooleanFilter(label=_("Overdue"), method="only_overdue")
    mine = django_filters.BooleanFilter(label=_("Assigned to me"), method="assigned_to_me")
    o = django_filters.OrderingFilter(
        fields=(("created_at", "created"), ("number", "number"), ("title", "title"),
                ("status", "status"), ("due_date", "due"),
                ("status_changed_at", "changed")),
    )

    class Meta:
        model = LendingRequest
        fields = []

    def __init__(self, *args, institution, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.institution = institution
        self.filters["partner"].queryset = Partner.objects.filter(institution=institution)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return search(queryset, institution=self.institution, value=value)

    def in_queue(self, queryset, name, value):
        return queryset.filter(QUEUES[value].q) if value in QUEUES else queryset

    def only_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(_overdue()) if value else queryset.exclude(_overdue())

    def assigned_to_me(self, queryset, name, value):
        return queryset.filter(assigned_to=self.user) if value and self.user else queryset
