"""How a session finds its user on every console request: User.objects.by_pk, one query
written out (credentials/security/auth.py, SignedInUserLookup), the same answer as Django's own lookup."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credentials.models import User
from credentials.security.auth import ThrottledModelBackend


def test_the_signed_in_user_is_one_query_and_the_same_user_django_finds(owner: User) -> None:
    owner.is_federated = True
    owner.credentials_version = 7
    owner.save()
    with CaptureQueriesContext(connection) as queries:
        found = ThrottledModelBackend().get_user(str(owner.pk))  # the session stores text
    assert len(queries) == 1
    # The written-out query (the ORM's would name each column with its table).
    sql = queries[0]["sql"]
    assert sql.startswith('SELECT "id", "password", ')
    assert sql.endswith(f'FROM "credentials_user" WHERE "id" = {owner.pk}')
    django_found = ModelBackend().get_user(owner.pk)
    fields = [field.attname for field in User._meta.concrete_fields]
    assert [getattr(found, f) for f in fields] == [getattr(django_found, f) for f in fields]
    assert found._state.adding is False
    assert found._state.db == "default"


def test_an_inactive_unknown_or_malformed_user_is_nobody(owner: User, other_user: User) -> None:
    other_user.is_active = False
    other_user.save()
    backend = ThrottledModelBackend()
    assert backend.get_user(other_user.pk) is None
    assert backend.get_user(owner.pk + other_user.pk + 1000) is None
    assert backend.get_user("not-a-number") is None
