"""What My Permissions shows: where in one registry the signed-in user may pull, push and
delete (their own grants and their groups', the highest that applies), and what each of
their long-term credentials may do there, its narrowing applied.

Built from the domain's own answers, so the page says what the token service will do:
OrganizationQuerySet.for_user (an organization-wide level), user_access (a repository's
level, the token service's lookup) and rules.narrowed_level (a credential's narrowing)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext

from credentials.models import (
    LongTermCredential,
    Organization,
    Permission,
    Registry,
    User,
    is_registry_admin,
    user_access,
)
from credentials.rules import LEVEL_ACTIONS, MANAGE, level_label, narrowed_level

ACTION_ORDER = ("pull", "push", "delete")


def actions_label(level: int) -> str:
    """What a level lets one do, in words: Pull, push, delete."""
    words = {"pull": gettext("pull"), "push": gettext("push"), "delete": gettext("delete")}
    shown = [words[action] for action in ACTION_ORDER if action in LEVEL_ACTIONS[level]]
    return gettext(", ").join(shown)


@dataclass(frozen=True)
class Place:
    """An organization (repository "") or one repository in it, and the level there."""

    organization: str
    repository: str
    level: int
    # The grants that apply here: (who, their level, whether it is the organization's) —
    # ("you", "Edit", False); a repository also has its organization's.
    grants: tuple[tuple[str, str, bool], ...] = ()

    @property
    def where(self) -> str:
        return f"{self.organization}/{self.repository}" if self.repository else self.organization

    @property
    def level_label(self) -> str:
        return level_label(self.level)

    @property
    def actions(self) -> str:
        return actions_label(self.level)


@dataclass(frozen=True)
class CredentialReach:
    """One long-term credential and where it may do what."""

    credential: LongTermCredential
    # An administrator's credential not narrowed to some organizations: everywhere, at
    # `everywhere_level`.
    everywhere_level: int = 0
    places: tuple[Place, ...] = field(default_factory=tuple)

    @property
    def everywhere_actions(self) -> str:
        return actions_label(self.everywhere_level)


@dataclass(frozen=True)
class Summary:
    administrator: bool
    places: tuple[Place, ...]
    credentials: tuple[CredentialReach, ...]

    @property
    def everywhere_actions(self) -> str:
        return actions_label(MANAGE)


def _who(grant: Permission) -> str:
    if grant.user_id:
        return gettext("you")
    return gettext("group “%(name)s”") % {"name": grant.group.name}


def _places(user: User, registry: Registry) -> tuple[Place, ...]:
    """The user's places in `registry` (not an administrator's: they have them all)."""
    grants = (
        Permission.objects.applying_to(user)
        .filter(organization__registry=registry)
        .select_related("organization", "group")
        .order_by("organization__name", "repository", "-level", "id")
    )
    through: dict[tuple[str, str], list[tuple[str, str, bool]]] = {}
    for grant in grants:
        key = (grant.organization.name, grant.repository)
        through.setdefault(key, []).append((_who(grant), level_label(grant.level), False))
    organization_levels = {
        org.name: org.level for org in Organization.objects.for_user(user, registry).only("name")
    }
    repositories = [f"{org}/{repo}" for org, repo in through if repo]
    repository_levels = user_access(user, registry, repositories).levels if repositories else {}
    places = []
    for (org, repo), who in through.items():
        if repo:
            level = repository_levels.get(f"{org}/{repo}", 0)
            who = who + [(name, label, True) for name, label, _ in through.get((org, ""), [])]
        else:
            level = organization_levels[org]
        places.append(Place(org, repo, level, tuple(who)))
    return tuple(places)


def _reach(
    credential: LongTermCredential, places: tuple[Place, ...], administrator: bool
) -> CredentialReach:
    chosen = {org.name for org in credential.organizations.all()}
    everywhere = credential.all_organizations
    if administrator:
        if everywhere:
            level = narrowed_level(MANAGE, credential.access, organization_included=True)
            return CredentialReach(credential, everywhere_level=level)
        places = tuple(Place(org, "", MANAGE) for org in sorted(chosen))
    reach = []
    for place in places:
        included = everywhere or place.organization in chosen
        level = narrowed_level(place.level, credential.access, organization_included=included)
        if level:
            reach.append(Place(place.organization, place.repository, level))
    return CredentialReach(credential, places=tuple(reach))


def summary(user: User, registry: Registry) -> Summary:
    administrator = is_registry_admin(user)
    places = () if administrator else _places(user, registry)
    credentials = (
        LongTermCredential.objects.for_user(user)
        .in_registry(registry)
        .prefetch_related("organizations")
        .order_by("name")
    )
    return Summary(
        administrator=administrator,
        places=places,
        credentials=tuple(_reach(c, places, administrator) for c in credentials),
    )
