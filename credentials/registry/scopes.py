"""What a verified credential may do: the access a token grants for the scopes a client
asked for — its owner's permissions where each repository lies (narrowed, for a long-term
credential, as its owner chose), within REGISTRY_TOKEN_ACTIONS and REGISTRY_TOKEN_CATALOG.
Looked up afresh at every token request (credentials/models/access.py: one query), so a
permission granted or revoked counts from the next token."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from credentials.models import RepositoryAccess, credential_access, user_access
from credentials.registry.principals import Principal

# Actions a repository scope may carry; "*" is the catalog's.
REPOSITORY_ACTIONS = frozenset({"pull", "push", "delete"})
# Granted for a repository whenever a client asks for any action on it, as far as the
# credential may (see DECISIONS.md, "Scopes"): a client that keeps its first, pull-only token
# can still push where it may push. Never delete unasked.
WIDENED_ACTIONS = frozenset({"pull", "push"})
# The most repositories one token request is looked up for (a client names one, or two for a
# cross-repository mount); the rest of a longer list is left out of the token.
MAX_REPOSITORIES = 100


@dataclass(frozen=True)
class Requested:
    """The resources a client named: each repository with the actions asked (in the order
    asked), and whether it asked for the catalog."""

    repositories: list[tuple[str, frozenset[str]]]
    catalog: bool


def requested(scopes: list[str]) -> Requested:
    """Parse `scope` values (each one or more space-separated `type:name:actions`). A
    repository scope naming none of pull, push, delete is ignored; so is any other type."""
    repositories: list[tuple[str, frozenset[str]]] = []
    names: set[str] = set()
    catalog = False
    for scope in scopes:
        for item in scope.split(" "):
            kind, _, rest = item.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind == "registry" and name == "catalog" and actions == "*":
                catalog = True
                continue
            asked = frozenset(actions.split(",")) & REPOSITORY_ACTIONS
            if kind != "repository" or not name or not asked:
                continue
            if name not in names and len(names) == MAX_REPOSITORIES:
                continue
            names.add(name)
            repositories.append((name, asked))
    return Requested(repositories, catalog)


def granted_access(principal: Principal, scopes: list[str]) -> list[dict]:
    """What the token grants `principal` for each resource a client named.

    A repository: the actions asked, widened to pull and push, ∩ what the credential may do
    there ∩ REGISTRY_TOKEN_ACTIONS; where that is nothing, the entry is there with no
    actions (the specification's partial grant: not an error, the registry then answers
    `denied`). The catalog (`registry:catalog:*`): only for a registry administrator's
    credential not narrowed to some organizations, and only when REGISTRY_TOKEN_CATALOG is
    on; otherwise it is left out. Anything else: nothing. One query when a repository or the
    catalog is at stake, none otherwise.
    """
    asked = requested(scopes)
    catalog_on = asked.catalog and settings.REGISTRY_TOKEN_CATALOG
    if not asked.repositories and not catalog_on:
        return []
    may = _access(principal, [name for name, _ in asked.repositories])
    allowed = frozenset(settings.REGISTRY_TOKEN_ACTIONS)
    access: list[dict] = []
    if catalog_on and may.catalog:
        access.append({"type": "registry", "name": "catalog", "actions": ["*"]})
    for name, actions in asked.repositories:
        granted = (actions | WIDENED_ACTIONS) & may.actions(name) & allowed
        access.append({"type": "repository", "name": name, "actions": sorted(granted)})
    return access


def _access(principal: Principal, repositories: list[str]) -> RepositoryAccess:
    """A long-term credential's own access (its owner's permissions ∩ its narrowing); a
    temporary credential's owner's permissions at the registry it was verified for."""
    if principal.long_term_id is not None:
        return credential_access(principal.long_term_id, repositories)
    if principal.owner_id is None or principal.registry_id is None:
        return RepositoryAccess()
    return user_access(principal.owner_id, principal.registry_id, repositories)
