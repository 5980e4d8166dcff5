//! Microsoft Graph `servicePrincipal` and `application` objects as `az ad sp list --all`
//! and `az ad app list --all` print them (Graph v1.0 schema), built at test time so no
//! secret-shaped value sits in the repository.

use serde_json::{Value, json};

pub const TENANT: &str = "3f2a9c4e-6b1d-4e8a-9f0c-2d7e5b8a1c63";
pub const PARTNER_TENANT: &str = "b7e4d1a0-2c3f-4a5b-8e9d-0f1a2b3c4d5e";
pub const MICROSOFT_SERVICES: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";
pub const GRAPH: &str = "00000003-0000-0000-c000-000000000000";
pub const EXCHANGE: &str = "00000002-0000-0ff1-ce00-000000000000";
pub const CI: &str = "6d1f0a4b-2e3c-4b5a-9c8d-7e6f5a4b3c21";
pub const ORDERS: &str = "8a7b6c5d-4e3f-4a1b-9c2d-1e0f9a8b7c6d";
pub const LEGACY: &str = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
pub const ACME: &str = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b";
pub const WEB_MI: &str = "4b5c6d7e-8f9a-4b0c-9d1e-2f3a4b5c6d7e";
pub const DEPLOY_MI: &str = "7f8e9d0c-1b2a-4c3d-8e4f-5a6b7c8d9e0f";
pub const ORDERS_ROLE: &str = "c1d2e3f4-a5b6-4c7d-8e9f-a0b1c2d3e4f5";
pub const ORDERS_SCOPE: &str = "d2e3f4a5-b6c7-4d8e-9f0a-b1c2d3e4f5a6";
pub const UNKNOWN_API: &str = "e3f4a5b6-c7d8-4e9f-a0b1-c2d3e4f5a6b7";
pub const UNKNOWN_PERMISSION: &str = "f4a5b6c7-d8e9-4f0a-b1c2-d3e4f5a6b7c8";
pub const REPORTS_READ_ALL: &str = "230c1aed-a721-4c5d-9cb4-a90514e508ef";
pub const SUBSCRIPTION: &str = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

/// A key id (a GUID) for credential `n`.
pub fn key_id(n: u32) -> String {
    format!("{n:08x}-0f1e-4d2c-9b3a-{:012x}", u64::from(n) * 0x1f2e_3d4c)
}

/// What a freshly created secret's `secretText` looks like, made here.
pub fn secret_text(n: u32) -> String {
    let tail: String = (0..34u32)
        .map(|i| char::from(b'a' + u8::try_from((i * 11 + n * 7) % 26).unwrap()))
        .collect();
    format!("Q7{n}~{tail}")
}

/// A certificate body as Graph's `key` field holds it (base64 DER), made here.
pub fn certificate_body(n: u32) -> String {
    let body: String = (0..96u32)
        .map(|i| char::from(b'A' + u8::try_from((i * 5 + n) % 26).unwrap()))
        .collect();
    format!("MIIC{body}")
}

/// A certificate's thumbprint as `customKeyIdentifier` holds it, made here.
pub fn thumbprint(n: u32) -> String {
    format!("QjdE{}", "MzRG".repeat(12 + n as usize % 3))
}

fn password(n: u32, name: &str, start: &str, end: &str) -> Value {
    let secret = secret_text(n);
    json!({
        "customKeyIdentifier": null,
        "displayName": name,
        "endDateTime": end,
        "hint": &secret[..3],
        "keyId": key_id(n),
        "secretText": secret,
        "startDateTime": start,
    })
}

fn certificate(n: u32, name: &str, start: &str, end: &str) -> Value {
    json!({
        "customKeyIdentifier": thumbprint(n),
        "displayName": name,
        "endDateTime": end,
        "key": certificate_body(n),
        "keyId": key_id(n),
        "startDateTime": start,
        "type": "AsymmetricX509Cert",
        "usage": "Verify",
    })
}

fn principal(app_id: &str, name: &str, owner_org: Option<&str>, kind: &str) -> Value {
    json!({
        "accountEnabled": true,
        "addIns": [],
        "alternativeNames": [],
        "appDescription": null,
        "appDisplayName": name,
        "appId": app_id,
        "appOwnerOrganizationId": owner_org,
        "appRoleAssignmentRequired": false,
        "appRoles": [],
        "applicationTemplateId": null,
        "deletedDateTime": null,
        "description": null,
        "disabledByMicrosoftStatus": null,
        "displayName": name,
        "homepage": null,
        "id": format!("{}-0000-4000-8000-00000000{}", &app_id[..8], &app_id[..4]),
        "info": {"logoUrl": null, "marketingUrl": null, "privacyStatementUrl": null, "supportUrl": null, "termsOfServiceUrl": null},
        "keyCredentials": [],
        "loginUrl": null,
        "logoutUrl": null,
        "notes": null,
        "notificationEmailAddresses": [],
        "oauth2PermissionScopes": [],
        "passwordCredentials": [],
        "preferredSingleSignOnMode": null,
        "preferredTokenSigningKeyThumbprint": null,
        "replyUrls": [],
        "resourceSpecificApplicationPermissions": [],
        "samlSingleSignOnSettings": null,
        "servicePrincipalNames": [app_id],
        "servicePrincipalType": kind,
        "signInAudience": "AzureADMyOrg",
        "tags": ["WindowsAzureActiveDirectoryIntegratedApp"],
        "tokenEncryptionKeyId": null,
        "verifiedPublisher": {"addedDateTime": null, "displayName": null, "verifiedPublisherId": null},
    })
}

/// `az ad sp list --all`.
pub fn principals() -> Value {
    let mut graph = principal(
        GRAPH,
        "Microsoft Graph",
        Some(MICROSOFT_SERVICES),
        "Application",
    );
    graph["appRoles"] = json!([
        {"allowedMemberTypes": ["Application"], "description": "Allows the app to read and write all applications.", "displayName": "Read and write all applications", "id": "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", "isEnabled": true, "origin": "Application", "value": "Application.ReadWrite.All"},
        {"allowedMemberTypes": ["Application"], "description": "Allows an app to read all service usage reports.", "displayName": "Read all usage reports", "id": REPORTS_READ_ALL, "isEnabled": true, "origin": "Application", "value": "Reports.Read.All"},
    ]);
    graph["oauth2PermissionScopes"] = json!([
        {"adminConsentDescription": "Allows users to sign-in to the app.", "adminConsentDisplayName": "Sign in and read user profile", "id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "isEnabled": true, "type": "User", "value": "User.Read"},
    ]);
    graph["servicePrincipalNames"] = json!([
        "https://graph.microsoft.com",
        GRAPH,
        "https://graph.microsoft.com/"
    ]);

    let exchange = principal(
        EXCHANGE,
        "Office 365 Exchange Online",
        Some(MICROSOFT_SERVICES),
        "Application",
    );

    let mut ci = principal(CI, "contoso-ci-deployer", Some(TENANT), "Application");
    ci["passwordCredentials"] = json!([]);

    let mut legacy = principal(LEGACY, "legacy-reporting", Some(TENANT), "Application");
    legacy["accountEnabled"] = json!(false);
    legacy["notes"] = json!("replaced by the data platform; disable, then delete after Q3");
    legacy["passwordCredentials"] = json!([password(
        30,
        "sp-secret",
        "2022-05-01T08:00:00Z",
        "2299-12-31T00:00:00Z"
    )]);

    let mut acme = principal(ACME, "Acme Analytics", Some(PARTNER_TENANT), "Application");
    acme["signInAudience"] = json!("AzureADMultipleOrgs");
    acme["publisherName"] = json!("Acme Analytics");
    acme["verifiedPublisher"] = json!({"addedDateTime": "2021-03-04T10:00:00Z", "displayName": "Acme Analytics Ltd", "verifiedPublisherId": "6012345"});
    acme["tags"] = json!([
        "WindowsAzureActiveDirectoryIntegratedApp",
        "WindowsAzureActiveDirectoryGalleryApplicationPrimaryV1"
    ]);

    let mut web = principal(WEB_MI, "orders-web", None, "ManagedIdentity");
    web["alternativeNames"] = json!([
        "isExplicit=False",
        format!(
            "/subscriptions/{SUBSCRIPTION}/resourcegroups/orders-prod/providers/Microsoft.Web/sites/orders-web"
        )
    ]);
    web["servicePrincipalNames"] = json!([WEB_MI, "https://identity.azure.net/Zm9vYmFyYmF6cXV4"]);
    web["keyCredentials"] = json!([certificate(
        40,
        "CN=4b5c6d7e-8f9a-4b0c-9d1e-2f3a4b5c6d7e",
        "2026-09-01T00:00:00Z",
        "2026-11-30T00:00:00Z"
    )]);
    web["tags"] = json!([]);

    let mut deploy = principal(DEPLOY_MI, "deploy-uami", None, "ManagedIdentity");
    deploy["alternativeNames"] = json!([
        "isExplicit=True",
        format!(
            "/subscriptions/{SUBSCRIPTION}/resourcegroups/platform/providers/Microsoft.ManagedIdentity/userAssignedIdentities/deploy-uami"
        )
    ]);
    deploy["tags"] = json!([]);

    json!([graph, exchange, ci, legacy, acme, web, deploy])
}

fn application(app_id: &str, name: &str, audience: &str, created: &str) -> Value {
    json!({
        "addIns": [],
        "api": {"acceptMappedClaims": null, "knownClientApplications": [], "oauth2PermissionScopes": [], "preAuthorizedApplications": [], "requestedAccessTokenVersion": null},
        "appId": app_id,
        "appRoles": [],
        "applicationTemplateId": null,
        "certification": null,
        "createdDateTime": created,
        "defaultRedirectUri": null,
        "deletedDateTime": null,
        "description": null,
        "disabledByMicrosoftStatus": null,
        "displayName": name,
        "groupMembershipClaims": null,
        "id": format!("{}-1111-4000-8000-00000000{}", &app_id[..8], &app_id[..4]),
        "identifierUris": [],
        "info": {"logoUrl": null, "marketingUrl": null, "privacyStatementUrl": null, "supportUrl": null, "termsOfServiceUrl": null},
        "isDeviceOnlyAuthSupported": null,
        "isFallbackPublicClient": null,
        "keyCredentials": [],
        "notes": null,
        "optionalClaims": null,
        "parentalControlSettings": {"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"},
        "passwordCredentials": [],
        "publicClient": {"redirectUris": []},
        "publisherDomain": "contoso.onmicrosoft.com",
        "requestSignatureVerification": null,
        "requiredResourceAccess": [],
        "samlMetadataUrl": null,
        "serviceManagementReference": null,
        "servicePrincipalLockConfiguration": null,
        "signInAudience": audience,
        "spa": {"redirectUris": []},
        "tags": [],
        "tokenEncryptionKeyId": null,
        "uniqueName": null,
        "verifiedPublisher": {"addedDateTime": null, "displayName": null, "verifiedPublisherId": null},
        "web": {"homePageUrl": null, "implicitGrantSettings": {"enableAccessTokenIssuance": false, "enableIdTokenIssuance": false}, "logoutUrl": null, "redirectUriSettings": [], "redirectUris": []},
    })
}

/// The applications, as the Graph page `GET /v1.0/applications?$expand=owners` returns it.
pub fn applications_page() -> Value {
    let mut ci = application(
        CI,
        "contoso-ci-deployer",
        "AzureADMyOrg",
        "2023-04-12T09:15:02Z",
    );
    ci["description"] = json!("Deploys the platform from GitHub Actions");
    ci["tags"] = json!(["env:production", "HideApp"]);
    ci["passwordCredentials"] = json!([
        password(
            1,
            "github-actions",
            "2024-01-15T10:00:00Z",
            "2026-01-15T10:00:00Z"
        ),
        password(
            2,
            "break-glass",
            "2025-06-01T00:00:00Z",
            "2025-08-30T00:00:00Z"
        ),
    ]);
    ci["keyCredentials"] = json!([certificate(
        3,
        "CN=ci-deployer",
        "2025-02-01T00:00:00Z",
        "2026-02-01T00:00:00Z"
    )]);
    ci["requiredResourceAccess"] = json!([
        {"resourceAppId": GRAPH, "resourceAccess": [
            {"id": "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", "type": "Role"},
            {"id": REPORTS_READ_ALL, "type": "Role"},
            {"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"},
        ]},
        {"resourceAppId": ORDERS, "resourceAccess": [{"id": ORDERS_ROLE, "type": "Role"}]},
        {"resourceAppId": UNKNOWN_API, "resourceAccess": [{"id": UNKNOWN_PERMISSION, "type": "Scope"}]},
    ]);
    ci["owners"] = json!([
        {"@odata.type": "#microsoft.graph.servicePrincipal", "id": "aa11bb22-0000-4000-8000-000000000001", "appId": DEPLOY_MI, "displayName": "deploy-uami"},
        {"@odata.type": "#microsoft.graph.user", "id": "aa11bb22-0000-4000-8000-000000000002", "displayName": "Alice Example", "mail": "Alice@contoso.example", "userPrincipalName": "alice@contoso.example"},
        {"@odata.type": "#microsoft.graph.user", "id": "aa11bb22-0000-4000-8000-000000000003", "displayName": "Bob Example", "mail": null, "userPrincipalName": "bob@contoso.example"},
    ]);
    ci["federatedIdentityCredentials"] = json!([{
        "audiences": ["api://AzureADTokenExchange"],
        "description": "GitHub Actions, production environment",
        "id": "0b1c2d3e-0000-4000-8000-000000000001",
        "issuer": "https://token.actions.githubusercontent.com",
        "name": "github-production",
        "subject": "repo:contoso/platform:environment:production",
    }]);

    let mut orders = application(
        ORDERS,
        "contoso-orders-api",
        "AzureADMultipleOrgs",
        "2022-11-03T14:20:00Z",
    );
    orders["identifierUris"] = json!([format!("api://{ORDERS}")]);
    orders["appRoles"] = json!([{"allowedMemberTypes": ["Application"], "description": "Read and write orders", "displayName": "Orders.ReadWrite.All", "id": ORDERS_ROLE, "isEnabled": true, "origin": "Application", "value": "Orders.ReadWrite.All"}]);
    orders["api"]["oauth2PermissionScopes"] = json!([{"adminConsentDescription": "Read orders", "adminConsentDisplayName": "Read orders", "id": ORDERS_SCOPE, "isEnabled": true, "type": "User", "value": "Orders.Read"}]);
    orders["keyCredentials"] = json!([certificate(
        4,
        "CN=orders-api",
        "2024-03-01T00:00:00Z",
        "2029-03-01T00:00:00Z"
    )]);

    let mut legacy = application(
        LEGACY,
        "legacy-reporting",
        "AzureADMyOrg",
        "2019-02-20T07:45:00Z",
    );
    legacy["passwordCredentials"] = json!([password(
        31,
        "prod",
        "2019-02-20T07:45:00Z",
        "2299-12-31T00:00:00Z"
    )]);
    legacy["requiredResourceAccess"] = json!([
        {"resourceAppId": GRAPH, "resourceAccess": [
            {"id": "810c84a8-4a9e-49e6-bf7d-12d183f40d01", "type": "Role"},
            {"id": "0e263e50-5827-48a4-b97c-d940288653c7", "type": "Scope"},
        ]},
    ]);

    json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#applications(owners())",
        "value": [ci, orders, legacy],
    })
}
