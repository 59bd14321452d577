"""What a verified credential may do: the access a token grants for the scopes a client
asked for (REGISTRY_TOKEN_ACTIONS, REGISTRY_TOKEN_CATALOG)."""

from __future__ import annotations

from django.conf import settings

# Actions a repository scope may carry; "*" is the catalog's.
REPOSITORY_ACTIONS = frozenset({"pull", "push", "delete"})
# Granted for a repository whenever a client asks for any action on it (see DECISIONS.md,
# "Scopes"): a client that keeps its first, pull-only token can still push. Never delete.
WIDENED_ACTIONS = ("pull", "push")


def granted_access(scopes: list[str]) -> list[dict]:
    """What a credential may do, for each resource a client named.

    For a repository: what the credential may do on its registry (REGISTRY_TOKEN_ACTIONS)
    among pull and push, plus delete when asked and allowed. The catalog
    (`registry:catalog:*`) only when REGISTRY_TOKEN_CATALOG is on. Anything else: nothing.
    """
    allowed = set(settings.REGISTRY_TOKEN_ACTIONS)
    widened = {action for action in WIDENED_ACTIONS if action in allowed}
    access: list[dict] = []
    for scope in scopes:
        for item in scope.split(" "):
            kind, _, rest = item.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind == "registry" and name == "catalog" and actions == "*":
                if settings.REGISTRY_TOKEN_CATALOG:
                    access.append({"type": "registry", "name": "catalog", "actions": ["*"]})
                continue
            if kind != "repository" or not name:
                continue
            asked = set(actions.split(",")) & REPOSITORY_ACTIONS
            if not asked:
                continue
            granted = widened | (asked & allowed)
            if granted:
                access.append({"type": kind, "name": name, "actions": sorted(granted)})
    return access
