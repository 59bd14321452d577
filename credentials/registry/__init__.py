"""The Docker registry token service: the console is the authority for its credentials.

A CNCF Distribution registry configured with `auth: token` sends clients to
`/service/token` (the realm); the console answers with a short-lived ES256 JWT granting the
repository actions the credential allows, or 401. `views.token` is the one entry: a GET is the
Basic flow (`basic`), a POST the OAuth2 flow (`oauth`). Both verify a credential the same way
(`principals`), count and audit failures the same way (`attempts`), grant the same scopes
(`scopes`) and sign with the same key (`keys`, `tokens`). `setup` is a registry's `auth:`
section pointing at this console. See docs/HUAWEI-API.md §5 and docs/REGISTRY.md.
"""
