//! Well-known Microsoft identifiers: Microsoft Graph's app id and permission ids (the same
//! in every tenant), and Microsoft's own tenants.

/// Microsoft Graph's app id.
pub(crate) const GRAPH: &str = "00000003-0000-0000-c000-000000000000";

/// The tenants Microsoft's first-party applications belong to (`appOwnerOrganizationId`).
pub(crate) const MICROSOFT_TENANTS: &[&str] = &[
    "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
    "72f988bf-86f1-41af-91ab-2d7cd011db47",
];

/// How much a Graph permission grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Risk {
    /// A known path to Global Administrator: tenant takeover (application permissions only).
    Admin,
    /// Writes broadly, or reads every mailbox or file, without being a takeover by itself.
    Privileged,
    /// Neither.
    Ordinary,
}

/// Microsoft Graph permissions by id: name, `Role` (application) or `Scope` (delegated), and
/// risk. Ids checked against Graph's own service principal (`appRoles`,
/// `oauth2PermissionScopes`); a tenant whose listing includes the Graph service principal
/// resolves every other id from it.
pub(crate) const GRAPH_PERMISSIONS: &[(&str, &str, &str, Risk)] = &[
    // Application permissions with a known path to Global Administrator.
    (
        "19dbc75e-c2e2-444c-a770-ec69d8559fc7",
        "Directory.ReadWrite.All",
        "Role",
        Risk::Admin,
    ),
    (
        "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
        "Application.ReadWrite.All",
        "Role",
        Risk::Admin,
    ),
    (
        "06b708a9-e830-4db3-a914-8e69da51d44f",
        "AppRoleAssignment.ReadWrite.All",
        "Role",
        Risk::Admin,
    ),
    (
        "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8",
        "RoleManagement.ReadWrite.Directory",
        "Role",
        Risk::Admin,
    ),
    // Application permissions that write broadly or read everyone's content.
    (
        "18a4783c-866b-4cc7-a460-3d5e5662c884",
        "Application.ReadWrite.OwnedBy",
        "Role",
        Risk::Privileged,
    ),
    (
        "741f803b-c850-494e-b5df-cde7c675a1ca",
        "User.ReadWrite.All",
        "Role",
        Risk::Privileged,
    ),
    (
        "62a82d76-70ea-41e2-9197-370581804d09",
        "Group.ReadWrite.All",
        "Role",
        Risk::Privileged,
    ),
    (
        "01c0a623-fc9b-48e9-b794-0756f8e8f067",
        "Policy.ReadWrite.ConditionalAccess",
        "Role",
        Risk::Privileged,
    ),
    (
        "810c84a8-4a9e-49e6-bf7d-12d183f40d01",
        "Mail.Read",
        "Role",
        Risk::Privileged,
    ),
    (
        "e2a3a72e-5f79-4c64-b1b1-878b674786c9",
        "Mail.ReadWrite",
        "Role",
        Risk::Privileged,
    ),
    (
        "b633e1c5-b582-4048-a93e-9f11b44c7e96",
        "Mail.Send",
        "Role",
        Risk::Privileged,
    ),
    (
        "75359482-378d-4052-8f01-80520e7db3cd",
        "Files.ReadWrite.All",
        "Role",
        Risk::Privileged,
    ),
    (
        "9492366f-7969-46a4-8d15-ed1a20078fff",
        "Sites.ReadWrite.All",
        "Role",
        Risk::Privileged,
    ),
    (
        "a82116e5-55eb-4c41-a434-62fe8a61c773",
        "Sites.FullControl.All",
        "Role",
        Risk::Privileged,
    ),
    // Application permissions that read.
    (
        "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
        "Directory.Read.All",
        "Role",
        Risk::Ordinary,
    ),
    (
        "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
        "Application.Read.All",
        "Role",
        Risk::Ordinary,
    ),
    (
        "df021288-bdef-4463-88db-98f22de89214",
        "User.Read.All",
        "Role",
        Risk::Ordinary,
    ),
    (
        "5b567255-7703-4780-807c-7be8301ae99b",
        "Group.Read.All",
        "Role",
        Risk::Ordinary,
    ),
    (
        "b0afded3-3588-46d8-8b3d-9842eff778da",
        "AuditLog.Read.All",
        "Role",
        Risk::Ordinary,
    ),
    (
        "798ee544-9d2d-430c-a058-570e29e34338",
        "Calendars.Read",
        "Role",
        Risk::Ordinary,
    ),
    (
        "332a536c-c7ef-4017-ab91-336970924f0d",
        "Sites.Read.All",
        "Role",
        Risk::Ordinary,
    ),
    (
        "01d4889c-1287-42c6-ac1f-5d1e02578ef6",
        "Files.Read.All",
        "Role",
        Risk::Ordinary,
    ),
    // Delegated permissions: they act as the signed-in user, so only the directory-wide
    // ones are privileged.
    (
        "0e263e50-5827-48a4-b97c-d940288653c7",
        "Directory.AccessAsUser.All",
        "Scope",
        Risk::Privileged,
    ),
    (
        "c5366453-9fb0-48a5-a156-24f0c49a4b84",
        "Directory.ReadWrite.All",
        "Scope",
        Risk::Privileged,
    ),
    (
        "06da0dbc-49e2-44d2-8312-53f166ab848a",
        "Directory.Read.All",
        "Scope",
        Risk::Ordinary,
    ),
    (
        "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
        "User.Read",
        "Scope",
        Risk::Ordinary,
    ),
    (
        "b4e74841-8e56-480b-be8b-910348b18b4c",
        "User.ReadWrite",
        "Scope",
        Risk::Ordinary,
    ),
    (
        "b340eb25-3456-403f-be2f-af7a0d370277",
        "User.ReadBasic.All",
        "Scope",
        Risk::Ordinary,
    ),
    (
        "a154be20-db9c-4678-8ab7-66f6cc099a59",
        "User.Read.All",
        "Scope",
        Risk::Ordinary,
    ),
    (
        "5f8c59db-677d-491f-a6b8-5f174b11ec1d",
        "Group.Read.All",
        "Scope",
        Risk::Ordinary,
    ),
    (
        "570282fd-fa5c-430d-a7fd-fc8dc98a9dca",
        "Mail.Read",
        "Scope",
        Risk::Ordinary,
    ),
    (
        "024d486e-b451-40bb-833d-3e66d98c5c73",
        "Mail.ReadWrite",
        "Scope",
        Risk::Ordinary,
    ),
    (
        "e383f46e-2787-4529-855e-0e479a3ffac0",
        "Mail.Send",
        "Scope",
        Risk::Ordinary,
    ),
    (
        "37f7f235-527c-4136-accd-4a02d197296e",
        "openid",
        "Scope",
        Risk::Ordinary,
    ),
    (
        "14dad69e-099b-42c9-810b-d002981feec1",
        "profile",
        "Scope",
        Risk::Ordinary,
    ),
    (
        "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0",
        "email",
        "Scope",
        Risk::Ordinary,
    ),
    (
        "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
        "offline_access",
        "Scope",
        Risk::Ordinary,
    ),
];

/// A Graph permission's name and risk, when the id is one this table knows with that type.
pub(crate) fn graph_permission(id: &str, kind: &str) -> Option<(&'static str, Risk)> {
    GRAPH_PERMISSIONS
        .iter()
        .find(|(i, _, k, _)| i.eq_ignore_ascii_case(id) && *k == kind)
        .map(|(_, name, _, risk)| (*name, *risk))
}

/// How risky a Graph permission named `name` of type `kind` is, for names resolved from
/// the Graph service principal rather than from this table.
pub(crate) fn graph_risk_by_name(name: &str, kind: &str) -> Risk {
    GRAPH_PERMISSIONS
        .iter()
        .find(|(_, n, k, _)| *n == name && *k == kind)
        .map_or(Risk::Ordinary, |(_, _, _, r)| *r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_per_type_and_look_like_guids() {
        let mut seen = std::collections::BTreeSet::new();
        for (id, _, kind, _) in GRAPH_PERMISSIONS {
            assert!(seen.insert((*id, *kind)), "{id} twice");
            assert_eq!(id.len(), 36, "{id}");
            assert_eq!(id.matches('-').count(), 4, "{id}");
        }
        assert_eq!(
            graph_permission("1BFEFB4E-E0B5-418B-A88F-73C46D2CC8E9", "Role"),
            Some(("Application.ReadWrite.All", Risk::Admin))
        );
        assert_eq!(
            graph_permission("1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", "Scope"),
            None
        );
        assert_eq!(graph_risk_by_name("Mail.Read", "Role"), Risk::Privileged);
        assert_eq!(graph_risk_by_name("Mail.Read", "Scope"), Risk::Ordinary);
    }
}
