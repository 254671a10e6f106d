from __future__ import annotations

from dataclasses import dataclass

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ill.models import BorrowingRequest
from ill.models.search import search
from partners.models import Partner

BR = BorrowingRequest

@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    statuses: tuple = ()
    attention: bool = False

    @property
    def q(self) -> Q:
        if self.attention:  # a closed request is never waiting for anyone
            return Q(needs_attention=True) & ~Q(status__in=BR.FINAL)
        return Q(status__in=self.statuses)

    def contains(self, status: str, needs_attention: bool) -> bool:
        if self.attention:
            return needs_attention and status not in BR.FINAL
        return status in self.statuses


# Alma's daily checks, as ready-made queues.
QUEUES = {queue.key: queue for queue in [
    Queue("ready", _("Ready to be sent"), (BR.S.CREATED, BR.S.READY)),
    Queue("conditional", _("Conditional"), (BR.S.CONDITIONAL,)),
    Queue("renew_requested", _("Renew requested"), (BR.S.RENEW_REQUESTED,)),
    Queue("returned_by_patron", _("Returned by patron"), (BR.S.RETURNED_BY_PATRON,)),
    Queue("waiting_cancel", _("Waiting for cancel response"), (BR.S.WAITING_CANCEL,)),
    # Rejected by the last partner asked, with no next one sent yet: choose more partners or
    # close. (There is no borrowing-side locate yet, so no "locate failed" queue.)
    Queue("rejected", _("Rejected by partner"), (BR.S.REJECTED,)),
    Queue("attention", _("Needs attention"), attention=True),
]}


class BorrowingRequestFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Number, title, author, patron, barcode or identifier"), method="search")
    queue = django_filters.ChoiceFilter(
        label=_("Queue"), method="in_queue",
        choices=[(key, queue.label) for key, queue in QUEUES.items()])
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=BR.Status.choices)
    partner = django_filters.ModelChoiceFilter(label=_("Partner"), queryset=Partner.objects.none())
    request_type = django_filters.ChoiceFilter(label=_("Type"), choices=BR.Type.choices)
    patron = django_filters.CharFilter(label=_("Patron card"), field_name="patron__barcode")
    created_after = django_filters.DateFilter(label=_("Created from"), field_name="created_at",
                                              lookup_expr="date__gte")
    created_before = django_filters.DateFilter(label=_("Created until"),
                                               field_name="created_at", lookup_expr="date__lte")
    overdue = django_filters.BooleanFilter(label=_("Overdue"), method="only_overdue")
    needs_attention = django_filters.BooleanFilter(label=_("Needs attention"))
    mine = django_filters.BooleanFilter(label=_("Assigned to me"), method="assigned_to_me")
    o = django_filters.OrderingFilter(
        fields=(("created_at", "created"), ("number", "number"), ("title", "title"),
                ("status", "status"), ("patron_due_date", "due"),
                ("status_changed_at", "changed")),
    )

    class Meta:
        model = BorrowingRequest
        fields = []

    def __init__(self, *args, institution, user, **kwargs):
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
        overdue = Q(status__in=BR.ON_LOAN, patron_due_date__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def assigned_to_me(self, queryset, name, value):
        return queryset.filter(assigned_to=self.user) if value else queryset
