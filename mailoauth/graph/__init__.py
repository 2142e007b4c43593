"""Live tenant access through Microsoft Graph, for `preflight`, `audit`, `scopes sync` and friends.

Importing this package and its `target`/`errors` modules is cheap: msgraph-sdk and azure-identity
are imported only inside the functions that open a session (`session.open_session`, `session.run`),
so `plan`, `diff` and `validate` never pay for them.
"""
