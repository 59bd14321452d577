"""Sign-in with an OpenID Connect provider (settings.OIDC): `client.py` (Authlib's client for
the provider: discovery, the code flow with PKCE, state and nonce, refresh, RP-initiated
logout; every failure named as a refusal reason), `federation.py` (an ID token's claims to a
federated user: issuer + subject, groups, roles, audited), `views.py` (the sign-in redirect,
the callback, sign-out at the provider, the break-glass password page) and `renewal.py` (the
provider asked again every OIDC_RENEW_SECONDS while a session is used)."""
