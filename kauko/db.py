"""A lean INSERT for the rows written once per incoming message or action.

`Model.save()` compiles its INSERT statement afresh on every call. Where a row is written
for every ISO 18626 message (the message itself, a history row), that compiling was the
largest single cost after the database round trips themselves; `insert` builds the statement
once per model and reuses it. The values are the ones `save(force_insert=True)` would write
(defaults, each field's `pre_save` and its own conversion for the database), but no
`pre_save`/`post_save` signals are sent: use it only for models nothing listens to.
"""

from __future__ import annotations

import functools

from django.db import connections
from django.db.models import Model

__all__ = ["insert"]


@functools.cache
def _statement(model: type[Model], using: str) -> tuple[str, tuple]:
    meta = model._meta.concrete_model._meta  # a proxy writes its concrete model's table
    if meta.parents:  # multi-table inheritance writes several tables: let save() do it
        raise TypeError(f"insert() does not handle inherited models like {meta.label}")
    quote = connections[using].ops.quote_name
    fields = tuple(f for f in meta.local_concrete_fields if f is not meta.auto_field)
    sql = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)})"
           f" VALUES ({', '.join(['%s'] * len(fields))})")
    if meta.auto_field is not None:
        sql += f" RETURNING {quote(meta.auto_field.column)}"
    return sql, fields


def insert(obj: Model, *, using: str = "default") -> Model:
    """Write the new row `obj` (like `obj.save(force_insert=True)`) and return it."""
    connection = connections[using]
    meta = obj._meta.concrete_model._meta
    if meta.auto_field is not None and not connection.features.can_return_columns_from_insert:
        obj.save(force_insert=True, using=using)
        return obj
    sql, fields = _statement(type(obj), using)
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if meta.auto_field is not None:
            setattr(obj, meta.auto_field.attname, cursor.fetchone()[0])
    obj._state.adding = False
    obj._state.db = using
    return obj
