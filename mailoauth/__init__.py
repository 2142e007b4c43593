"""mailoauth: Entra ID app registrations for OAuth2 mail, declared in YAML and applied with Pulumi.

The package is split so that the review path (`plan`, `diff`, `validate`) needs only PyYAML:
`pulumi` is imported by `mailoauth.deploy.program` alone, and msgraph-sdk by the live tenant commands.
"""

__version__ = "0.1.0"
