"""The azuread provider's own plan-time checks, applied by the Pulumi mocks to every resource the program registers.

pulumi-azuread 6.11.1 bridges hashicorp/terraform-provider-azuread v3.9.0 (docs/sources.md says how that was
settled). Each check below names the file and lines of that provider version it reproduces; a resource the
real provider would refuse at `pulumi preview` makes the mocked run fail with the provider's reason, so a
test on the program cannot pass where the first real `pulumi up` would not.

Only the arguments the program sets are checked, with the provider's rules for them; the mocks see Pulumi's
camelCase input names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

PROVIDER = "hashicorp/terraform-provider-azuread v3.9.0"
APP_GO = "internal/services/applications/application_resource.go"
PASSWORD_GO = "internal/services/applications/application_password_resource.go"
SP_GO = "internal/services/serviceprincipals/service_principal_resource.go"
GRANT_GO = "internal/services/serviceprincipals/service_principal_delegated_permission_grant_resource.go"
SP_DATA_GO = "internal/services/serviceprincipals/service_principal_data_source.go"
URI_GO = "internal/helpers/tf/validation/uri.go"
STABLE_IDS = "vendor/github.com/hashicorp/go-azure-sdk/microsoft-graph/common-types/stable"
UUID_GO = "vendor/github.com/hashicorp/go-uuid/uuid.go:60-83"
RFC3339_GO = "vendor/github.com/hashicorp/terraform-plugin-sdk/v2/helper/validation/time.go:45-58"

APPLICATION = "azuread:index/application:Application"
SERVICE_PRINCIPAL = "azuread:index/servicePrincipal:ServicePrincipal"
PASSWORD = "azuread:index/applicationPassword:ApplicationPassword"
GRANT = "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant"
GET_SERVICE_PRINCIPAL = "azuread:index/getServicePrincipal:getServicePrincipal"

SIGN_IN_AUDIENCES = (
    "AzureADMyOrg",
    "AzureADMultipleOrgs",
    "AzureADandPersonalMicrosoftAccount",
    "PersonalMicrosoftAccount",
)
PERSONAL = SIGN_IN_AUDIENCES[2:]
REDIRECT_SCHEMES = ("http", "https", "ms-appx-web", "brk-multihub")
# Go's time.RFC3339 layout, "2006-01-02T15:04:05Z07:00", with the optional fraction time.Parse accepts.
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
IMPORT_IDS = {  # the importer's id parser: a literal collection segment (case-sensitive), then the id
    APPLICATION: ("applications", f"{APP_GO}:56-65; {STABLE_IDS}/id_application.go:86-97"),
    SERVICE_PRINCIPAL: ("servicePrincipals", f"{SP_GO}:50-59; {STABLE_IDS}/id_serviceprincipal.go:86-97"),
    GRANT: ("oauth2PermissionGrants", f"{GRANT_GO}:42-51; {STABLE_IDS}/id_oauth2permissiongrant.go:86-97"),
}

Refusal = tuple[str, str, str]  # (input path, what the provider says, source file:lines)
Check = Callable[[Mapping[str, Any]], Iterator[Refusal]]


class ProviderRefused(Exception):
    """What `pulumi preview` would print for a resource the azuread provider refuses."""

    def __init__(self, typ: str, name: str, refusals: list[Refusal]):
        self.refusals = refusals
        lines = [f"{path}: {message} [{PROVIDER} {source}]" for path, message, source in refusals]
        super().__init__(f"azuread provider refuses {typ} {name!r}:\n  " + "\n  ".join(lines))


def refusals(typ: str, inputs: Mapping[str, Any], import_id: str | None = None) -> list[Refusal]:
    """Everything the provider would refuse in one resource's inputs (and import id); [] when it accepts them."""
    found = list(CHECKS[typ](inputs)) if typ in CHECKS else []
    if import_id:
        found += list(_import_id(typ, import_id))
    return found


# --- the provider's value validators ------------------------------------------------------------


def is_uuid(value: Any) -> bool:
    """hashicorp/go-uuid ParseUUID: 36 characters, dashes at 8, 13, 18, 23, hex elsewhere (either case)."""
    if not isinstance(value, str) or len(value) != 36 or any(value[i] != "-" for i in (8, 13, 18, 23)):
        return False
    return re.fullmatch(r"[0-9a-fA-F]{32}", value.replace("-", "")) is not None


def is_rfc3339(value: Any) -> bool:
    """Go's time.Parse(time.RFC3339, v): the layout, and a real calendar date and time."""
    if not isinstance(value, str) or not RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def redirect_uri_problem(uri: Any) -> str | None:
    """validation.IsRedirectUriFunc(urnAllowed=true, allowAllSchemes=false), used for `web.redirect_uris`."""
    if not isinstance(uri, str) or not uri:
        return "URI must not be empty"
    parts = uri.split(":")
    if len(parts) >= 3 and parts[0] == "urn":
        return None
    try:
        split = urlsplit(uri)
    except ValueError:
        return "URI is in an invalid format"
    if not split.netloc:
        return "URI has no host"
    if split.path == "":
        return "URI must have a trailing slash when there is no path segment"
    if split.scheme not in REDIRECT_SCHEMES:
        return f"unexpected URI scheme, expected one of: {', '.join(REDIRECT_SCHEMES)}"
    if len(uri) > 256:
        return "URI must be 256 characters or less"
    return None


def _uuids(path: str, values: Any, source: str) -> Iterator[Refusal]:
    for i, value in enumerate(values or ()):
        if not is_uuid(value):
            yield f"{path}[{i}]", f"expected a valid UUID, got {value}", source


def _uuid(path: str, value: Any, source: str, required: bool = True) -> Iterator[Refusal]:
    if value is None and not required:
        return
    if value is None:
        yield path, "required argument is missing", source
    elif not is_uuid(value):
        yield path, f"expected a valid UUID, got {value}", source


# --- per resource -------------------------------------------------------------------------------


def _application(inputs: Mapping[str, Any]) -> Iterator[Refusal]:
    if not isinstance(inputs.get("displayName"), str) or not inputs["displayName"]:
        yield "displayName", "expected a non-empty string", f"{APP_GO}:82-87"
    audience = inputs.get("signInAudience", "AzureADMyOrg")
    if audience not in SIGN_IN_AUDIENCES:
        yield "signInAudience", f"expected one of {list(SIGN_IN_AUDIENCES)}, got {audience}", f"{APP_GO}:524-530"
    version = (inputs.get("api") or {}).get("requestedAccessTokenVersion", 1)
    if version not in (1, 2):
        yield "api.requestedAccessTokenVersion", "Value must be one of: 1, 2", f"{APP_GO}:178-200"
    owners = inputs.get("owners") or ()
    yield from _uuids("owners", owners, f"{APP_GO}:396-406")
    if len(owners) > 100:
        yield "owners", f"{len(owners)} owners; at most 100", f"{APP_GO}:401"
    uris = (inputs.get("web") or {}).get("redirectUris") or ()
    for i, uri in enumerate(uris):
        problem = redirect_uri_problem(uri)
        if problem:
            yield f"web.redirectUris[{i}]", problem, f"{APP_GO}:614; {URI_GO}:39-105"
    if len(uris) > 256:
        yield "web.redirectUris", f"{len(uris)} URIs; at most 256", f"{APP_GO}:611"
    accesses = inputs.get("requiredResourceAccesses") or ()
    yield from _resource_accesses(accesses)
    if audience in PERSONAL:
        yield from _personal(version, uris, accesses)


def _resource_accesses(accesses: Any) -> Iterator[Refusal]:
    for i, rra in enumerate(accesses):
        if not rra.get("resourceAppId"):
            yield f"requiredResourceAccesses[{i}].resourceAppId", "required argument is missing", f"{APP_GO}:486-490"
        for j, access in enumerate(rra.get("resourceAccesses") or ()):
            where = f"requiredResourceAccesses[{i}].resourceAccesses[{j}]"
            if not is_uuid(access.get("id")):
                yield f"{where}.id", f"expected a valid UUID, got {access.get('id')}", f"{APP_GO}:498-503"
            if access.get("type") not in ("Role", "Scope"):
                yield f"{where}.type", f"expected one of [Role Scope], got {access.get('type')}", f"{APP_GO}:505-510"


def _personal(version: Any, uris: Any, accesses: Any) -> Iterator[Refusal]:
    """The CustomizeDiff checks for audiences with personal accounts (application_resource.go:727-833)."""
    both = f"when `sign_in_audience` is {PERSONAL[0]!r} or {PERSONAL[1]!r}"
    if version == 1:
        yield "api.requestedAccessTokenVersion", f"must be 2 {both}", f"{APP_GO}:739-742"
    if len(uris) > 100:
        yield "web.redirectUris", f"must have no more than 100 URIs {both}", f"{APP_GO}:791-795"
    for i, uri in enumerate(uris):
        if "*" in (urlsplit(uri).netloc if isinstance(uri, str) else ""):
            yield f"web.redirectUris[{i}]", f"wildcard hosts are not supported {both}", f"{APP_GO}:797-806"
    counts = [len(rra.get("resourceAccesses") or ()) for rra in accesses]
    if len(counts) > 50:
        yield "requiredResourceAccesses", f"at most 50 blocks {both}", f"{APP_GO}:813-816"
    if any(c > 30 for c in counts):
        yield "requiredResourceAccesses", f"at most 30 resource accesses per resource {both}", f"{APP_GO}:822-825"
    if sum(counts) > 200:
        yield "requiredResourceAccesses", f"at most 200 resource accesses per application {both}", f"{APP_GO}:826-830"


def _service_principal(inputs: Mapping[str, Any]) -> Iterator[Refusal]:
    yield from _uuid("clientId", inputs.get("clientId"), f"{SP_GO}:71-77")
    yield from _uuids("owners", inputs.get("owners"), f"{SP_GO}:205-214")


def _password(inputs: Mapping[str, Any]) -> Iterator[Refusal]:
    app_id = inputs.get("applicationId")
    if not _is_import_id(str(app_id), "applications"):
        yield "applicationId", f"parsing {app_id!r}: not an application id (/applications/<id>)", f"{PASSWORD_GO}:51-57"
    for key, lines in (("startDate", "67-74"), ("endDate", "76-84")):
        if key in inputs and not is_rfc3339(inputs[key]):
            yield key, f"expected a valid RFC3339 date, got {inputs[key]!r}", f"{PASSWORD_GO}:{lines}; {RFC3339_GO}"
    if "endDate" in inputs and "endDateRelative" in inputs:
        yield "endDate", "conflicts with endDateRelative", f"{PASSWORD_GO}:82,91"


def _grant(inputs: Mapping[str, Any]) -> Iterator[Refusal]:
    claims = inputs.get("claimValues")
    if not claims:
        yield "claimValues", "attribute requires 1 item minimum", f"{GRANT_GO}:63-72"
    for i, claim in enumerate(claims or ()):
        if not isinstance(claim, str) or not claim:
            yield f"claimValues[{i}]", "expected a non-empty string", f"{GRANT_GO}:68-71"
    yield from _uuid(
        "resourceServicePrincipalObjectId", inputs.get("resourceServicePrincipalObjectId"), f"{GRANT_GO}:74-80"
    )
    yield from _uuid("servicePrincipalObjectId", inputs.get("servicePrincipalObjectId"), f"{GRANT_GO}:82-88")
    yield from _uuid("userObjectId", inputs.get("userObjectId"), f"{GRANT_GO}:90-96", required=False)


def _is_import_id(value: str, collection: str) -> bool:
    """go-azure-helpers resourceids Parser.Parse(input, insensitively=false) for `/<collection>/<id>`."""
    segments = value.removeprefix("/").split("/")
    return len(segments) == 2 and segments[0] == collection and segments[1] != ""


def _import_id(typ: str, import_id: str) -> Iterator[Refusal]:
    if typ not in IMPORT_IDS:
        yield "id", f"{typ} cannot be imported: the resource has no importer", PASSWORD_GO
        return
    collection, source = IMPORT_IDS[typ]
    if not _is_import_id(import_id, collection):
        yield "id", f"parsing {import_id!r}: the import id must be /{collection}/<id>", source


def _get_service_principal(args: Mapping[str, Any]) -> Iterator[Refusal]:
    given = [k for k in ("clientId", "displayName", "objectId") if args.get(k)]
    if len(given) != 1:
        yield "clientId", "exactly one of clientId, displayName, objectId must be given", f"{SP_DATA_GO}:59"
    if "clientId" in args:
        yield from _uuid("clientId", args.get("clientId"), f"{SP_DATA_GO}:54-61")


CHECKS: dict[str, Check] = {  # resources by type, data sources (invokes) by token
    APPLICATION: _application,
    SERVICE_PRINCIPAL: _service_principal,
    PASSWORD: _password,
    GRANT: _grant,
    GET_SERVICE_PRINCIPAL: _get_service_principal,
}
