"""The long-term tab's rendered page is reused only while everything it shows is unchanged
(credentials/console/page_cache.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.template import loader
from django.test import Client, RequestFactory

from credentials.console import page_cache
from credentials.models import Actor, Registry, User
from tests.helpers import ask, basic, client_for, make_credential, op_url, tab_page

pytestmark = pytest.mark.django_db


def test_a_flash_message_is_shown_once_and_never_cached(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    credential = make_credential(owner, registry, "ci-bot")
    tab_page(owner_client, registry)  # cached without a message
    owner_client.post(op_url("disable", credential))  # no JavaScript: redirect with a message
    assert "Credential “ci-bot” is disabled." in tab_page(owner_client, registry)
    assert "is disabled." not in tab_page(owner_client, registry)


def test_the_page_follows_the_users_own_row(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    assert "Create Long-Term Credential" in tab_page(owner_client, registry)
    User.objects.filter(pk=owner.pk).update(is_federated=True)
    assert "Federated users cannot create" in tab_page(owner_client, registry)
    User.objects.filter(pk=owner.pk).update(is_federated=False, is_staff=True)
    assert ">Admin</a>" in tab_page(owner_client, registry)


def test_each_user_gets_their_own_page(
    owner_client: Client, owner: User, other_user: User, registry: Registry
) -> None:
    make_credential(owner, registry, "alices-bot")
    assert "alices-bot" in tab_page(owner_client, registry)
    assert "alices-bot" not in tab_page(client_for(other_user), registry)


def test_an_unknown_registry_is_a_404(owner_client: Client) -> None:
    response = owner_client.get(
        "/registries/00000000-0000-4000-8000-000000000000/access-credentials/long-term/"
    )
    assert response.status_code == 404


def test_status_changes_reach_the_cached_page(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    credential = make_credential(owner, registry, "ci-bot")
    assert "Enabled" in tab_page(owner_client, registry)
    credential.disable(by=Actor(user=owner))
    assert '<span class="status disabled">Disabled</span>' in tab_page(owner_client, registry)


@pytest.mark.usefixtures("token_keys")
def test_every_change_to_a_credential_raises_its_owners_version(
    client: Client, owner: User, other_user: User, registry: Registry
) -> None:
    from credentials.models import LongTermCredential

    def version(user: User) -> int:
        user.refresh_from_db(fields=["credentials_version"])
        return user.credentials_version

    seen = [version(owner)]
    credential, password = LongTermCredential.objects.create_for(
        owner=owner, registry=registry, name="ci", by=Actor(user=owner)
    )
    seen.append(version(owner))
    credential.disable(by=Actor(user=owner))
    seen.append(version(owner))
    credential.enable(by=Actor(user=owner))
    seen.append(version(owner))
    assert ask(client, basic(credential.username, password), registry.address).status_code == 200
    seen.append(version(owner))  # Last Used was written
    assert ask(client, basic(credential.username, password), registry.address).status_code == 200
    seen.append(version(owner))  # Last Used is fresh: nothing written, nothing raised
    credential.delete_by(by=Actor(user=owner))
    seen.append(version(owner))
    start = seen[0]
    assert seen == [start, start + 1, start + 2, start + 3, start + 4, start + 4, start + 5]
    assert version(other_user) == 0


# --- The key and what the page shows ----------------------------------------------------

# The tab's templates; those they extend and include are followed (template_variables).
TAB_TEMPLATES = ("credentials/access_credentials.html", "credentials/registry_base.html")
_NOT_VARIABLES = {"and", "or", "not", "in", "is", "==", "!=", ">", ">=", "<", "<=", "as", "with"}
_NOT_VARIABLES |= {"True", "False", "None"}


def _root(expression: str) -> str | None:
    """`page.number|default:1` → `page`; None for a literal, a translation or an operator."""
    name = expression.split("|")[0].split(".")[0]
    if name in _NOT_VARIABLES or not name or name[0] in "\"'0123456789" or name.startswith("_("):
        return None
    return name


def _assignments(words: list[str], used: set[str], bound: set[str]) -> None:
    """`name=value` words: the name is the template's own, the value is used."""
    for word in words:
        name, equals, value = word.partition("=")
        if equals:
            bound.add(name)
            used.add(_root(value))


def template_variables() -> set[str]:
    """The root name of every variable the tab's templates use, those the templates set
    themselves (loops, `as`, `asvar`, `with`) left out."""
    used: set[str] = set()
    bound = {"forloop"}
    names, seen = list(TAB_TEMPLATES), set()
    while names:
        name = names.pop()
        if name in seen:
            continue
        seen.add(name)
        source = Path(loader.get_template(name).origin.name).read_text()
        for expression in re.findall(r"{{\s*(.*?)\s*}}", source):
            used.add(_root(expression))
        for tag in re.findall(r"{%\s*(.*?)\s*%}", source):
            words = tag.split()
            if words[0] == "for":
                bound.update(word.rstrip(",") for word in words[1 : words.index("in")])
                used.add(_root(words[words.index("in") + 1]))
            elif words[0] in ("if", "elif"):
                used.update(_root(word) for word in words[1:])
            elif words[0] == "url":
                if "as" in words:
                    bound.add(words[-1])
                    words = words[: words.index("as")]
                used.update(_root(word) for word in words[2:])
            elif words[0] == "blocktranslate":  # `with name=value`, `count name=value`
                if "asvar" in words:
                    bound.add(words[words.index("asvar") + 1])
                _assignments(words[1:], used, bound)
            elif words[0] == "extends":
                names.append(words[1].strip("\"'"))
            elif words[0] == "include":
                names.append(words[1].strip("\"'"))
                _assignments(words[2:], used, bound)
    return used - bound - {None}


def test_every_variable_the_tab_shows_is_covered_by_its_page_key() -> None:
    shown = template_variables()
    assert shown - page_cache.SHOWN.keys() == set(), "add it to page_cache.SHOWN, and the key"
    assert page_cache.SHOWN.keys() - shown == set(), "no longer shown: drop it from SHOWN"


def test_every_part_of_the_key_covers_something_shown_and_changes_the_key(
    owner: User, registry: Registry
) -> None:
    request = RequestFactory().get("/")
    request.user = owner
    request.session = {}
    parts = page_cache.key_parts(request, registry, partial=False)
    covering = {part for parts_ in page_cache.SHOWN.values() for part in parts_}
    assert covering == parts.keys()
    for name, value in parts.items():
        changed = parts | {name: f"{value}-changed"}
        assert page_cache.key_of(changed) != page_cache.key_of(parts), name
