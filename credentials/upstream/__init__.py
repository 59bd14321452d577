"""The console's only HTTP client: Huawei SWR's temporary-login API and IAM user tokens.

`transport` (the session, each call's deadline, UpstreamError), `iam` (tokens and their
provider), `swr` (CreateSecret) know nothing of Django; `temporary_logins` wires them to
settings and the audit trail. Every failure is an UpstreamError whose message a user can read;
no `requests` exception escapes. Import the client's names from `credentials.upstream`.
"""

from __future__ import annotations

from credentials.upstream.iam import IAM_TOKEN_MARGIN, IamToken, TokenProvider, fetch_iam_token
from credentials.upstream.swr import TemporaryLogin, create_secret, create_secret_with
from credentials.upstream.transport import Timeouts, UpstreamError, _session

__all__ = [
    "IAM_TOKEN_MARGIN",
    "IamToken",
    "TemporaryLogin",
    "Timeouts",
    "TokenProvider",
    "UpstreamError",
    "_session",  # the one session every call goes through (tests watch its requests)
    "create_secret",
    "create_secret_with",
    "fetch_iam_token",
]
