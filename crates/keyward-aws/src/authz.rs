//! The output of `aws iam get-account-authorization-details` (one page or the CLI's merged
//! pages), read into typed values. Fields IAM adds over time are tolerated; a field of the
//! wrong type or a bad timestamp fails, naming the file, line, column and field path.

use std::path::Path;

use keyward_connect::{ConnectError, InputFile, parse_json};
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::document::{PolicyDocument, Time};

/// One authorization-details document, parsed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizationDetails {
    #[serde(rename = "UserDetailList", default)]
    pub(crate) users: Vec<UserDetail>,
    #[serde(rename = "GroupDetailList", default)]
    pub(crate) groups: Vec<GroupDetail>,
    #[serde(rename = "RoleDetailList", default)]
    pub(crate) roles: Vec<RoleDetail>,
    #[serde(rename = "Policies", default)]
    pub(crate) policies: Vec<ManagedPolicy>,
    /// Set by the API on a page that is not the last; the CLI merges pages and drops it.
    #[serde(rename = "IsTruncated", default)]
    pub(crate) is_truncated: bool,
}

impl AuthorizationDetails {
    /// How many users, groups, roles and managed policies the document lists.
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        (
            self.users.len(),
            self.groups.len(),
            self.roles.len(),
            self.policies.len(),
        )
    }
}

/// Parses an authorization-details document from its bytes; `path` names it in errors.
pub fn parse_authorization_details(
    path: &Path,
    bytes: &[u8],
) -> Result<AuthorizationDetails, ConnectError> {
    let file = InputFile {
        path: path.to_owned(),
        bytes: bytes.to_vec(),
    };
    parse_file(&file)
}

/// Parses an authorization-details file already read.
pub(crate) fn parse_file(file: &InputFile) -> Result<AuthorizationDetails, ConnectError> {
    // A JSON array or scalar at the top is not this format at all; say so plainly rather
    // than with serde's "expected struct".
    let first = file.bytes.iter().position(|b| !b.is_ascii_whitespace());
    if let Some(i) = first.filter(|&i| file.bytes[i] != b'{') {
        let (line, column) = keyward_connect::position_of(&file.bytes, i);
        return Err(ConnectError::syntax(
            &file.path,
            line,
            column,
            "not an authorization-details document: expected a JSON object",
        ));
    }
    parse_json(file)
}

/// `{"Key": …, "Value": …}`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Tag {
    #[serde(rename = "Key")]
    pub(crate) key: String,
    #[serde(rename = "Value", default)]
    pub(crate) value: String,
}

/// An inline policy: its name and document.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct InlinePolicy {
    #[serde(rename = "PolicyName")]
    pub(crate) name: String,
    #[serde(rename = "PolicyDocument")]
    pub(crate) document: PolicyDocument,
}

/// A managed policy attached to a user, group or role.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct AttachedPolicy {
    #[serde(rename = "PolicyName", default)]
    pub(crate) name: Option<String>,
    #[serde(rename = "PolicyArn")]
    pub(crate) arn: String,
}

/// A permissions boundary.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Boundary {
    #[serde(rename = "PermissionsBoundaryArn")]
    pub(crate) arn: String,
}

/// An IAM user.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct UserDetail {
    #[serde(rename = "UserName")]
    pub(crate) name: String,
    #[serde(rename = "Arn")]
    pub(crate) arn: String,
    #[serde(rename = "CreateDate")]
    pub(crate) created: Option<Time>,
    #[serde(rename = "UserPolicyList", default)]
    pub(crate) inline: Vec<InlinePolicy>,
    #[serde(rename = "GroupList", default)]
    pub(crate) groups: Vec<String>,
    #[serde(rename = "AttachedManagedPolicies", default)]
    pub(crate) attached: Vec<AttachedPolicy>,
    #[serde(rename = "PermissionsBoundary")]
    pub(crate) boundary: Option<Boundary>,
    #[serde(rename = "Tags", default)]
    pub(crate) tags: Vec<Tag>,
}

/// An IAM group: not an identity, but its policies apply to its members.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct GroupDetail {
    #[serde(rename = "GroupName")]
    pub(crate) name: String,
    #[serde(rename = "Arn")]
    pub(crate) arn: String,
    #[serde(rename = "GroupPolicyList", default)]
    pub(crate) inline: Vec<InlinePolicy>,
    #[serde(rename = "AttachedManagedPolicies", default)]
    pub(crate) attached: Vec<AttachedPolicy>,
}

/// An instance profile a role belongs to.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct InstanceProfile {
    #[serde(rename = "Arn")]
    pub(crate) arn: String,
    // The profile repeats its roles in full; nothing there that the role itself lacks.
    #[serde(rename = "Roles", default)]
    _roles: IgnoredAny,
}

/// When a role was last used, within IAM's tracking window.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct RoleLastUsed {
    #[serde(rename = "LastUsedDate")]
    pub(crate) date: Option<Time>,
    #[serde(rename = "Region")]
    pub(crate) region: Option<String>,
}

/// An IAM role.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RoleDetail {
    #[serde(rename = "Path", default)]
    pub(crate) path: String,
    #[serde(rename = "RoleName")]
    pub(crate) name: String,
    #[serde(rename = "Arn")]
    pub(crate) arn: String,
    #[serde(rename = "CreateDate")]
    pub(crate) created: Option<Time>,
    #[serde(rename = "Description")]
    pub(crate) description: Option<String>,
    #[serde(rename = "AssumeRolePolicyDocument")]
    pub(crate) trust: Option<PolicyDocument>,
    #[serde(rename = "InstanceProfileList", default)]
    pub(crate) instance_profiles: Vec<InstanceProfile>,
    #[serde(rename = "RolePolicyList", default)]
    pub(crate) inline: Vec<InlinePolicy>,
    #[serde(rename = "AttachedManagedPolicies", default)]
    pub(crate) attached: Vec<AttachedPolicy>,
    #[serde(rename = "PermissionsBoundary")]
    pub(crate) boundary: Option<Boundary>,
    #[serde(rename = "Tags", default)]
    pub(crate) tags: Vec<Tag>,
    #[serde(rename = "RoleLastUsed", default)]
    pub(crate) last_used: RoleLastUsed,
}

/// One version of a managed policy.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PolicyVersion {
    #[serde(rename = "Document")]
    pub(crate) document: PolicyDocument,
    #[serde(rename = "IsDefaultVersion", default)]
    pub(crate) is_default: bool,
}

/// A managed policy with its versions.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ManagedPolicy {
    #[serde(rename = "Arn")]
    pub(crate) arn: String,
    #[serde(rename = "PolicyVersionList", default)]
    pub(crate) versions: Vec<PolicyVersion>,
}

impl ManagedPolicy {
    /// The version in force.
    pub(crate) fn default_document(&self) -> Option<&PolicyDocument> {
        self.versions
            .iter()
            .find(|v| v.is_default)
            .map(|v| &v.document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_type_names_the_field_path() {
        let text = "{\"UserDetailList\": [\n {\"UserName\": \"a\", \"Arn\": \"arn:aws:iam::1:user/a\",\n  \"CreateDate\": \"last tuesday\"}]}";
        let err = parse_authorization_details(Path::new("a.json"), text.as_bytes()).unwrap_err();
        assert!(matches!(err, ConnectError::Field { line: 3, .. }), "{err}");
        assert!(
            err.to_string()
                .contains("UserDetailList[0].CreateDate: `last tuesday` is not a timestamp"),
            "{err}"
        );
        let err = parse_authorization_details(Path::new("a.json"), b"[1,2]").unwrap_err();
        assert_eq!(
            err.to_string(),
            "a.json:1:1: not an authorization-details document: expected a JSON object"
        );
        let err = parse_authorization_details(
            Path::new("a.json"),
            br#"{"RoleDetailList": [{"RoleName": "r", "Arn": "x", "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": 3}]}}]}"#,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("RoleDetailList[0].AssumeRolePolicyDocument.Statement[0].Principal"),
            "{err}"
        );
    }
}
