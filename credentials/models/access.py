"""What a user, or one of their long-term credentials, may do on a list of repositories of one
registry: one written-out query, for the token service at every token request.

A repository `<org>/<path>`: the highest level among the user's own grants and their groups'
on that organization (organization-wide) and on that repository; Manage for a registry
administrator, who alone may use repositories outside any organization (a name of one
segment, or whose organization does not exist). A long-term credential gets that ∩ its
narrowing (Pull only caps it at Read; a list of organizations leaves the others out).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import Group

from credentials.models.long_term import LongTermCredential
from credentials.models.organizations import Organization
from credentials.models.permissions import Permission
from credentials.models.registries import Registry
from credentials.models.sql import fetch_all
from credentials.models.users import User
from credentials.rules import (
    LEVEL_ACTIONS,
    MANAGE,
    REGISTRY_ADMINISTRATORS,
    narrowed_level,
    split_repository,
)


@dataclass(frozen=True)
class RepositoryAccess:
    """The answer for each repository asked about."""

    # Each repository name asked about → the level there (0: none), narrowing applied.
    levels: dict[str, int] = field(default_factory=dict)
    # The user is a registry administrator (superuser or "Registry Administrators").
    administrator: bool = False
    # May list the registry's catalog: an administrator, through a credential that is not
    # narrowed to some organizations (Pull only still lists).
    catalog: bool = False

    def actions(self, repository: str) -> frozenset[str]:
        """What may be done on `repository`: a subset of pull, push, delete."""
        return LEVEL_ACTIONS[self.levels.get(repository, 0)]


_NO_ACCESS = RepositoryAccess()


def _tables() -> dict[str, str]:
    return {
        "org": Organization._meta.db_table,
        "grant": Permission._meta.db_table,
        "user": User._meta.db_table,
        "user_groups": User.groups.through._meta.db_table,
        "group": Group._meta.db_table,
        "credential": LongTermCredential._meta.db_table,
        "narrowed": LongTermCredential.organizations.through._meta.db_table,
    }


def _marks(count: int) -> str:
    return ", ".join(["%s"] * count)


def _administrator(user: str, t: dict[str, str]) -> str:
    """Whether the user row aliased `user` is a registry administrator: one parameter, the
    group's name (permissions.is_registry_admin, as SQL)."""
    return f"""({user}.is_active AND ({user}.is_superuser OR EXISTS (
        SELECT 1 FROM {t["user_groups"]} ug JOIN {t["group"]} g ON g.id = ug.group_id
        WHERE ug.user_id = {user}.id AND g.name = %s)))"""  # noqa: S608


@functools.lru_cache(maxsize=256)  # one text per shape: organizations, paths
def _query(credential: bool, organizations: int, paths: int) -> str:
    """The statement. Its `asker` is read once, one row: the owner and the registry, whether
    the owner is a registry administrator, and a credential's narrowing (for a user: none).
    Each branch then reads through one index: the organizations by
    organization_name_per_registry, the user's grants by permission_per_user, their groups'
    by permission_per_group (the organization's group grants there, each kept if its group is
    one of the user's: joined from the user's groups instead, PostgreSQL read every grant of
    each group), a narrowed credential's organizations by their unique pair."""
    t = _tables()
    if credential:  # parameters: the administrators' group, the credential's id
        asker = f"""SELECT c.owner_id, c.registry_id, {_administrator("u", t)} AS administrator,
                c.access, c.all_organizations
            FROM {t["credential"]} c JOIN {t["user"]} u ON u.id = c.owner_id
            WHERE c.id = %s"""  # noqa: S608
    else:  # parameters: the registry's id, the administrators' group, the user's id
        asker = f"""SELECT u.id AS owner_id, %s AS registry_id,
                {_administrator("u", t)} AS administrator,
                NULL AS access, TRUE AS all_organizations
            FROM {t["user"]} u WHERE u.id = %s"""  # noqa: S608
    orgs, repos = _marks(organizations), _marks(paths + 1)  # the "" of organization-wide grants
    branches = [
        """SELECT 'asker', c.access, NULL,
            CASE WHEN c.administrator THEN 2 ELSE 0 END
            + CASE WHEN c.all_organizations THEN 1 ELSE 0 END
        FROM asker c"""
    ]
    if organizations:
        branches += [
            f"""SELECT 'grant', o.name, p.repository, p.level
            FROM asker c
            JOIN {t["org"]} o ON o.registry_id = c.registry_id AND o.name IN ({orgs})
            JOIN {t["grant"]} p ON p.organization_id = o.id AND p.user_id = c.owner_id
                 AND p.repository IN ({repos})""",  # noqa: S608
            f"""SELECT 'grant', o.name, p.repository, p.level
            FROM asker c
            JOIN {t["org"]} o ON o.registry_id = c.registry_id AND o.name IN ({orgs})
            JOIN {t["grant"]} p ON p.organization_id = o.id AND p.group_id IS NOT NULL
                 AND p.repository IN ({repos})
                 AND p.group_id IN (SELECT ug.group_id FROM {t["user_groups"]} ug
                                    WHERE ug.user_id = c.owner_id)""",  # noqa: S608
        ]
        if credential:
            branches.append(
                f"""SELECT 'narrowed', o.name, NULL, NULL
                FROM asker c
                JOIN {t["org"]} o ON o.registry_id = c.registry_id AND o.name IN ({orgs})
                JOIN {t["narrowed"]} n ON n.organization_id = o.id
                     AND n.longtermcredential_id = %s
                WHERE NOT c.all_organizations"""  # noqa: S608
            )
    # Table names from model metadata; every value is a parameter.
    return f"WITH asker AS ({asker})\n" + "\nUNION ALL\n".join(branches)


def _lookup(
    asker_params: list[object], repositories: Iterable[str], credential_id: int | None
) -> RepositoryAccess:
    names = list(dict.fromkeys(repositories))
    split = {name: split_repository(name) for name in names}
    organizations = sorted({parts[0] for parts in split.values() if parts})
    paths = sorted({parts[1] for parts in split.values() if parts})
    params = list(asker_params)
    if organizations:
        params += [*organizations, "", *paths] * 2
        if credential_id is not None:
            params += [*organizations, credential_id]
    sql = _query(credential_id is not None, len(organizations), len(paths))
    grants: dict[tuple[str, str], int] = {}
    found, administrator, access, everywhere, narrowed = False, False, None, True, set()
    for kind, name, repository, level in fetch_all(sql, params):
        if kind == "grant":
            key = (name, repository)
            grants[key] = max(grants.get(key, 0), level)
        elif kind == "asker":
            found, access = True, name
            administrator, everywhere = bool(level & 2), bool(level & 1)
        else:
            narrowed.add(name)
    if not found:
        return _NO_ACCESS  # a credential deleted meanwhile, or no such user
    levels = {}
    for name in names:
        parts = split[name]
        level = MANAGE if administrator else 0
        if parts is not None:
            org, path = parts
            level = max(level, grants.get((org, ""), 0), grants.get((org, path), 0))
        included = everywhere or (parts is not None and parts[0] in narrowed)
        levels[name] = narrowed_level(level, access, organization_included=included)
    return RepositoryAccess(levels, administrator, administrator and everywhere)


def user_access(
    user: User | int, registry: Registry | int, repositories: Iterable[str]
) -> RepositoryAccess:
    """What `user` may do on each of `repositories` (full names: `team-a/app`) in `registry`,
    with their own permissions (a temporary credential's, a console session's). One query."""
    user_id = user if isinstance(user, int) else user.pk
    registry_id = registry if isinstance(registry, int) else registry.pk
    return _lookup([registry_id, REGISTRY_ADMINISTRATORS, user_id], repositories, None)


def credential_access(
    credential: LongTermCredential | int, repositories: Iterable[str]
) -> RepositoryAccess:
    """What long-term credential `credential` (or its id) may do on each of `repositories` of
    its registry: its owner's permissions ∩ its narrowing. One query, whose every branch finds
    the owner and registry from the credential's row; nothing for a deleted credential."""
    credential_id = credential if isinstance(credential, int) else credential.pk
    return _lookup([REGISTRY_ADMINISTRATORS, credential_id], repositories, credential_id)
