"""SQL pieces the reports need that Django does not ship: a duration in seconds and a
percentile, on PostgreSQL in the database and on SQLite (development, tests) in Python, with
the same interpolation (PostgreSQL's `percentile_cont`), so both give the same figures."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable

from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Func


class Seconds(Func):
    """Seconds from `start` to `end` (NULL when either is NULL)."""

    output_field = FloatField()
    template = "EXTRACT(EPOCH FROM (%(expressions)s))"
    arg_joiner = " - "

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # Django keeps datetimes as ISO text on SQLite; julianday() reads it.
        return self.as_sql(compiler, connection,
                           template="((julianday(%(expressions)s)) * 86400.0)",
                           arg_joiner=") - julianday(", **extra)


class Percentile(Aggregate):
    """PostgreSQL's continuous percentile (linear interpolation between neighbours)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def percentile(values: list[float], fraction: float) -> float | None:
    """`percentile_cont` in Python: the same figure PostgreSQL gives."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def in_database() -> bool:
    return connection.vendor == "postgresql"


def grouped_percentiles(queryset, *, group: str, measures: dict,
                        fractions: Iterable[float] = (0.5, 0.9)) -> dict:
    """{group value: {measure: {"n": count, 0.5: seconds, 0.9: seconds}}} for each named
    duration expression in `measures`, over the rows of `queryset` where it is not NULL.

    One query per measure on PostgreSQL (aggregated there); one query in all on SQLite."""
    fractions = tuple(fractions)
    result: dict = defaultdict(lambda: {name: {"n": 0, **dict.fromkeys(fractions)}
                                        for name in measures})
    if in_database():
        for name, expression in measures.items():
            rows = (queryset.annotate(_m=expression).filter(_m__isnull=False)
                    .values(group).order_by(group)
                    .annotate(_n=Count("pk"), **{f"_p{i}": Percentile(F("_m"), fraction)
                                                 for i, fraction in enumerate(fractions)}))
            for row in rows:
                cell = result[row[group]][name]
                cell["n"] = row["_n"]
                for i, fraction in enumerate(fractions):
                    cell[fraction] = row[f"_p{i}"]
        return result
    values: dict = defaultdict(lambda: defaultdict(list))
    for row in queryset.values(group, **measures):
        for name in measures:
            if row[name] is not None:
                values[row[group]][name].append(row[name])
    for key, by_measure in values.items():
        for name, found in by_measure.items():
            cell = result[key][name]
            cell["n"] = len(found)
            for fraction in fractions:
                cell[fraction] = percentile(found, fraction)
    return result
