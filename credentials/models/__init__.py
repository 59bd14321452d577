"""Domain model: regions, registries, credentials and the audit trail, one module per topic.

Domain actions live here as model and QuerySet methods; views only glue them to HTTP. Import
from `credentials.models`: every public name of the package is re-exported here.
"""

from __future__ import annotations

from credentials.models.access import RepositoryAccess, credential_access, user_access
from credentials.models.access_keys import AccessKey, AccessKeyQuerySet, looks_like_access_key_id
from credentials.models.audit import HIDDEN_USERNAME, AuditEvent, typed_username
from credentials.models.audit_stream import (
    AuditOutbox,
    AuditStream,
    SenderLock,
    audit_events_streamed,
    audit_events_to_stream,
    audit_stream_backlog,
    audit_stream_enabled,
    switch_audit_stream,
)
from credentials.models.base import (
    EXPIRY_BANNER_DAYS,
    Actor,
    ConsoleError,
    digest_password,
    generate_password,
    generate_username,
    insert_together,
    looks_like_registry_username,
    password_matches,
)
from credentials.models.expiry import DEFAULT_EXPIRY, ExpiryRefused
from credentials.models.identities import FederatedIdentity, ProviderGroup
from credentials.models.limits import AdministratorDecisionBinds, NarrowingRefused
from credentials.models.long_term import (
    FEDERATED_MESSAGE,
    FederatedRefused,
    LongTermCredential,
    LongTermCredentialQuerySet,
    duplicate_name_message,
)
from credentials.models.organizations import (
    Organization,
    OrganizationQuerySet,
    grantee_group,
    grantee_user,
)
from credentials.models.permissions import (
    GranteeRefused,
    LastManagerRefused,
    LevelRefused,
    NameRefused,
    NotPermitted,
    OrganizationExists,
    OrganizationRefused,
    Permission,
    PermissionQuerySet,
    acts_as_administrator,
    is_registry_admin,
)
from credentials.models.refresh_tokens import RefreshCheck, RefreshToken, RefreshTokenQuerySet
from credentials.models.registries import Region, Registry, project_id_for
from credentials.models.reminders import CredentialReminder
from credentials.models.temporary import TemporaryCredential, TemporaryCredentialQuerySet
from credentials.models.users import ConsoleUserManager, User
from credentials.rules import NAME_MAX_LENGTH, NAME_RULE, TEMPORARY_VALIDITY

__all__ = [
    "DEFAULT_EXPIRY",
    "EXPIRY_BANNER_DAYS",
    "FEDERATED_MESSAGE",
    "HIDDEN_USERNAME",
    "NAME_MAX_LENGTH",
    "NAME_RULE",
    "TEMPORARY_VALIDITY",
    "AccessKey",
    "AccessKeyQuerySet",
    "Actor",
    "AdministratorDecisionBinds",
    "AuditEvent",
    "AuditOutbox",
    "AuditStream",
    "ConsoleError",
    "ConsoleUserManager",
    "CredentialReminder",
    "ExpiryRefused",
    "FederatedIdentity",
    "FederatedRefused",
    "GranteeRefused",
    "LastManagerRefused",
    "LevelRefused",
    "LongTermCredential",
    "LongTermCredentialQuerySet",
    "NameRefused",
    "NarrowingRefused",
    "NotPermitted",
    "Organization",
    "OrganizationExists",
    "OrganizationQuerySet",
    "OrganizationRefused",
    "Permission",
    "PermissionQuerySet",
    "ProviderGroup",
    "RefreshCheck",
    "RefreshToken",
    "RefreshTokenQuerySet",
    "Region",
    "Registry",
    "RepositoryAccess",
    "SenderLock",
    "TemporaryCredential",
    "TemporaryCredentialQuerySet",
    "User",
    "acts_as_administrator",
    "audit_events_streamed",
    "audit_events_to_stream",
    "audit_stream_backlog",
    "audit_stream_enabled",
    "credential_access",
    "digest_password",
    "duplicate_name_message",
    "generate_password",
    "generate_username",
    "grantee_group",
    "grantee_user",
    "insert_together",
    "is_registry_admin",
    "looks_like_access_key_id",
    "looks_like_registry_username",
    "password_matches",
    "project_id_for",
    "switch_audit_stream",
    "typed_username",
    "user_access",
]
