"""Written-out queries, read the same on PostgreSQL and SQLite.

The hot paths (the signed-in user, the token service's lookups) skip the ORM's query compiler,
but not its conversions: a datetime parameter is adapted as the ORM adapts it, and a time read
back is an aware datetime on both databases. SQLite stores times as naive UTC text and hands
them back naive (or as text, where an expression lost the column's type); PostgreSQL hands
them back aware. Every raw query of the domain that passes or reads a time goes through here.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models


def _adapted(params: Iterable[Any]) -> list[Any]:
    adapt = connection.ops.adapt_datetimefield_value
    return [adapt(value) if isinstance(value, datetime) else value for value in params]


def _as_time(value: Any) -> datetime | None:
    convert = getattr(connection.ops, "convert_datetimefield_value", None)
    if value is None or convert is None:  # PostgreSQL's driver already answers aware times
        return value
    return convert(value, None, connection)


def fetch_one(sql: str, params: Sequence[Any], *, times: Sequence[int] = ()) -> tuple | None:
    """The first row of `sql`, or None; the columns at the indexes `times` as aware datetimes."""
    with connection.cursor() as cursor:
        cursor.execute(sql, _adapted(params))
        row = cursor.fetchone()
    if row is None or not times:
        return row
    values = list(row)
    for index in times:
        values[index] = _as_time(values[index])
    return tuple(values)


def fetch_all(sql: str, params: Sequence[Any]) -> list[tuple]:
    """Every row of `sql` (datetime parameters adapted as the ORM adapts them)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, _adapted(params))
        return cursor.fetchall()


@functools.cache
def _select_by_pk(model: type[models.Model]) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in model._meta.concrete_fields)
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    return f"SELECT {columns} FROM {table} WHERE {pk} = %s"  # noqa: S608 - names from the model


@functools.cache
def _converters(model: type[models.Model]) -> tuple[tuple[Any, list[Any]], ...]:
    # What the ORM's compiler applies to each column: the backend's converters, then the field's.
    columns = [field.get_col(model._meta.db_table) for field in model._meta.concrete_fields]
    return tuple(
        (column, connection.ops.get_db_converters(column) + column.get_db_converters(connection))
        for column in columns
    )


def instance_by_pk(model: type[models.Model], pk: Any) -> models.Model | None:
    """The row of `model` with this primary key as a model instance, or None: the same
    instance `model.objects.get(pk=pk)` gives, through a statement written once per model."""
    with connection.cursor() as cursor:
        cursor.execute(_select_by_pk(model), [pk])
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for value, (column, converters) in zip(row, _converters(model), strict=True):
        for convert in converters:
            value = convert(value, column, connection)
        values.append(value)
    names = [field.attname for field in model._meta.concrete_fields]
    return model.from_db(connection.alias, names, values)
