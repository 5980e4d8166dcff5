//! Finding what a piece of CI text refers to: GitHub `${{ … }}` expressions naming secrets or
//! the workflow token, composite actions' `inputs.*`, and GitLab `$VARIABLE` references; and
//! judging names: secret-like, cloud keys.

/// What a GitHub expression refers to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum GhRef {
    /// `secrets.NAME` or `secrets['NAME']`, the name upper-cased (GitHub's secret names are
    /// case-insensitive and stored upper-case). `GITHUB_TOKEN` is [`GhRef::Token`].
    Secret(String),
    /// `secrets.GITHUB_TOKEN` or `github.token`.
    Token,
    /// `secrets[...]` with a computed index, or the whole `secrets` context (`toJSON(secrets)`).
    Dynamic,
}

/// The references in a GitHub text: inside each `${{ … }}`, or the whole text when
/// `whole_expression` (an `if:` condition, which is an expression without the braces).
pub(crate) fn github_refs(text: &str, whole_expression: bool) -> Vec<GhRef> {
    let mut out = Vec::new();
    if whole_expression && !text.contains("${{") {
        expression_refs(text, &mut out);
        return out;
    }
    for e in expressions(text) {
        expression_refs(e, &mut out);
    }
    out
}

/// The bodies of the `${{ … }}` in `text`; an unclosed one runs to the end of the text.
pub(crate) fn expressions(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        let body = &rest[start + 3..];
        let end = expression_end(body);
        out.push(&body[..end]);
        rest = body.get(end + 2..).unwrap_or("");
    }
    out
}

/// Where an expression body ends: the first `}}` outside a single-quoted string.
fn expression_end(body: &str) -> usize {
    let b = body.as_bytes();
    let mut in_str = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' => in_str = !in_str,
            b'}' if !in_str && b.get(i + 1) == Some(&b'}') => return i,
            _ => {}
        }
        i += 1;
    }
    b.len()
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// The references in one expression body.
fn expression_refs(e: &str, out: &mut Vec<GhRef>) {
    let b = e.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\'' {
            // A string literal: GitHub escapes a quote by doubling it.
            i += 1;
            while i < b.len() {
                if b[i] == b'\'' {
                    if b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
            continue;
        }
        if !(c.is_ascii_alphabetic() || c == b'_') {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && is_ident(b[i]) {
            i += 1;
        }
        if start > 0 && b[start - 1] == b'.' {
            continue;
        }
        let word = &e[start..i];
        let mut j = i;
        while j < b.len() && b[j] == b' ' {
            j += 1;
        }
        if word.eq_ignore_ascii_case("secrets") {
            match b.get(j) {
                Some(b'.') => {
                    let s = j + 1;
                    let mut k = s;
                    while k < b.len() && is_ident(b[k]) {
                        k += 1;
                    }
                    if k > s {
                        out.push(secret(&e[s..k]));
                    } else if b.get(s) == Some(&b'*') {
                        out.push(GhRef::Dynamic);
                    }
                    i = k;
                }
                Some(b'[') => {
                    let mut k = j + 1;
                    while k < b.len() && b[k] == b' ' {
                        k += 1;
                    }
                    let quote = b.get(k).copied();
                    if matches!(quote, Some(b'\'' | b'"')) {
                        let s = k + 1;
                        let mut q = s;
                        while q < b.len() && Some(b[q]) != quote {
                            q += 1;
                        }
                        let name = &e[s..q.min(b.len())];
                        if !name.is_empty() && name.bytes().all(is_ident) {
                            out.push(secret(name));
                        } else {
                            out.push(GhRef::Dynamic);
                        }
                        i = q + 1;
                    } else {
                        out.push(GhRef::Dynamic);
                        i = k;
                    }
                }
                // The whole context: `toJSON(secrets)` hands every secret over.
                _ => out.push(GhRef::Dynamic),
            }
        } else if word.eq_ignore_ascii_case("github") && b.get(j) == Some(&b'.') {
            let s = j + 1;
            let mut k = s;
            while k < b.len() && is_ident(b[k]) {
                k += 1;
            }
            if e[s..k].eq_ignore_ascii_case("token") {
                out.push(GhRef::Token);
            }
            i = k;
        }
    }
}

fn secret(name: &str) -> GhRef {
    let upper = name.to_ascii_uppercase();
    if upper == "GITHUB_TOKEN" {
        GhRef::Token
    } else {
        GhRef::Secret(upper)
    }
}

/// The `inputs.NAME` a composite action's text refers to, lower-cased (input names are
/// case-insensitive).
pub(crate) fn input_refs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in expressions(text) {
        let b = e.as_bytes();
        let mut i = 0;
        while let Some(p) = e[i..].find("inputs.") {
            let at = i + p;
            let s = at + "inputs.".len();
            let mut k = s;
            while k < b.len() && is_ident(b[k]) {
                k += 1;
            }
            let standalone = at == 0 || !(is_ident(b[at - 1]) || b[at - 1] == b'.');
            if standalone && k > s {
                out.push(e[s..k].to_ascii_lowercase());
            }
            i = k.max(s);
        }
    }
    out
}

/// The variables a GitLab text refers to: `$NAME`, `${NAME}`, `$env:NAME` (PowerShell) and
/// `%NAME%` (cmd). `$$NAME` escapes GitLab's expansion, but the shell still expands it, so it
/// counts too.
pub(crate) fn gitlab_vars(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let name_at = |s: usize| -> usize {
        let mut k = s;
        if k < b.len() && (b[k].is_ascii_alphabetic() || b[k] == b'_') {
            while k < b.len() && (b[k].is_ascii_alphanumeric() || b[k] == b'_') {
                k += 1;
            }
        }
        k
    };
    while i < b.len() {
        match b[i] {
            b'$' => {
                let mut s = i + 1;
                while s < b.len() && b[s] == b'$' {
                    s += 1;
                }
                let braced = b.get(s) == Some(&b'{');
                if braced {
                    s += 1;
                }
                if text
                    .get(s..s + 4)
                    .is_some_and(|p| p.eq_ignore_ascii_case("env:"))
                {
                    s += 4;
                }
                let k = name_at(s);
                if k > s {
                    out.push(text[s..k].to_owned());
                }
                i = k.max(i + 1);
            }
            b'%' => {
                let s = i + 1;
                let k = name_at(s);
                if k > s && b.get(k) == Some(&b'%') {
                    out.push(text[s..k].to_owned());
                    i = k + 1;
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// Words that make a variable's name look like it holds a secret.
const SECRET_WORDS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "KEY",
    "PASS",
    "CREDENTIAL",
    "AUTH",
    "PRIVATE",
];

/// Whether a variable's name looks like it holds a secret.
pub(crate) fn secret_like(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|w| upper.contains(w))
}

/// A cloud whose static keys CI files hand around.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Cloud {
    /// Amazon Web Services.
    Aws,
    /// Google Cloud.
    Gcp,
    /// Microsoft Azure.
    Azure,
}

impl Cloud {
    /// The fact's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Aws => "aws",
            Cloud::Gcp => "gcp",
            Cloud::Azure => "azure",
        }
    }
}

/// Names that mark a static cloud key: a secret or variable so named, or one assigned to an
/// environment variable so named.
const CLOUD_KEY_NAMES: &[(&str, Cloud)] = &[
    ("AWS_ACCESS_KEY_ID", Cloud::Aws),
    ("AWS_SECRET_ACCESS_KEY", Cloud::Aws),
    ("AWS_SECRET_KEY", Cloud::Aws),
    ("AWS_ACCESS_KEY", Cloud::Aws),
    ("GCP_SA_KEY", Cloud::Gcp),
    ("GCP_SERVICE_ACCOUNT_KEY", Cloud::Gcp),
    ("GCP_CREDENTIALS", Cloud::Gcp),
    ("GOOGLE_CREDENTIALS", Cloud::Gcp),
    ("GCLOUD_SERVICE_KEY", Cloud::Gcp),
    ("GOOGLE_SERVICE_ACCOUNT_KEY", Cloud::Gcp),
    ("AZURE_CREDENTIALS", Cloud::Azure),
    ("ARM_CLIENT_SECRET", Cloud::Azure),
    ("AZURE_CLIENT_SECRET", Cloud::Azure),
];

/// The cloud whose static key a name marks, if any.
pub(crate) fn cloud_key_name(name: &str) -> Option<Cloud> {
    let upper = name.to_ascii_uppercase();
    CLOUD_KEY_NAMES
        .iter()
        .find(|(n, _)| upper.contains(n))
        .map(|(_, c)| *c)
}

/// Whether a git ref is a full 40-hex commit SHA (the only pin GitHub cannot move).
pub(crate) fn is_full_sha(r: &str) -> bool {
    r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether a literal value assigned to a credential-named field plausibly is a secret rather
/// than a placeholder, flag, path or URL.
pub(crate) fn plausible_literal_secret(value: &str) -> bool {
    let v = value.trim();
    if v.len() < 8 || v.contains("${{") || v.contains('$') {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    if matches!(lower.as_str(), "true" | "false" | "null" | "none") {
        return false;
    }
    if v.starts_with('/') || v.starts_with("./") || v.starts_with("~/") {
        return false;
    }
    if (lower.starts_with("http://") || lower.starts_with("https://")) && !v.contains('@') {
        return false;
    }
    !v.contains(char::is_whitespace)
}

/// Markers of the pull request's or triggering run's head: checking out what they name runs
/// code from a fork.
const HEAD_MARKERS: &[&str] = &[
    "github.event.pull_request.head.sha",
    "github.event.pull_request.head.ref",
    "github.event.pull_request.head.repo.full_name",
    "github.head_ref",
    "github.event.workflow_run.head_sha",
    "github.event.workflow_run.head_branch",
    "github.event.workflow_run.head_repository.full_name",
    "refs/pull/",
];

/// Whether `text` names the pull request's (or triggering run's) head.
pub(crate) fn names_pr_head(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    HEAD_MARKERS.iter().any(|m| lower.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_secrets_in_expressions() {
        let t = "${{ secrets.E2E_TEST_GITHUB_TOKEN || secrets.GITHUB_TOKEN }}";
        assert_eq!(
            github_refs(t, false),
            [GhRef::Secret("E2E_TEST_GITHUB_TOKEN".into()), GhRef::Token]
        );
        assert_eq!(
            github_refs("a ${{ secrets.pypi_password}} b ${{ github.token }}", false),
            [GhRef::Secret("PYPI_PASSWORD".into()), GhRef::Token]
        );
        assert_eq!(
            github_refs("${{ secrets['MY-KEY'] }} ${{ Secrets [ \"X\" ] }}", false),
            [GhRef::Secret("MY-KEY".into()), GhRef::Secret("X".into())]
        );
        assert_eq!(
            github_refs("${{ secrets[matrix.name] }} ${{ toJSON(secrets) }}", false),
            [GhRef::Dynamic, GhRef::Dynamic]
        );
    }

    #[test]
    fn ignores_lookalikes() {
        assert!(github_refs("secrets.X outside braces", false).is_empty());
        assert!(github_refs("${{ 'secrets.X' }}", false).is_empty());
        assert!(github_refs("${{ inputs.secrets.X }} ${{ env.github.token }}", false).is_empty());
        assert!(github_refs("${{ github.tokens }}", false).is_empty());
        assert_eq!(
            github_refs("secrets.DEPLOY_KEY != ''", true),
            [GhRef::Secret("DEPLOY_KEY".into())]
        );
        assert_eq!(
            github_refs("${{ '}}' }} ${{ secrets.A }}", false),
            [GhRef::Secret("A".into())]
        );
        assert_eq!(
            github_refs("${{ secrets.A", false),
            [GhRef::Secret("A".into())]
        );
    }

    #[test]
    fn finds_inputs() {
        assert_eq!(
            input_refs("${{ inputs.Token }} ${{ github.event.inputs.x }} ${{ inputs }}"),
            ["token"]
        );
    }

    #[test]
    fn finds_gitlab_variables() {
        assert_eq!(
            gitlab_vars(
                "echo $DEPLOY_TOKEN ${AWS_SECRET_ACCESS_KEY} $$ESCAPED $env:WIN_PASS %CMD_KEY% 100% $1 ${}"
            ),
            [
                "DEPLOY_TOKEN",
                "AWS_SECRET_ACCESS_KEY",
                "ESCAPED",
                "WIN_PASS",
                "CMD_KEY"
            ]
        );
    }

    #[test]
    fn judges_names() {
        assert!(secret_like("DEPLOY_TOKEN"));
        assert!(secret_like("db_password"));
        assert!(!secret_like("IMAGE_NAME"));
        assert_eq!(
            cloud_key_name("PROD_AWS_SECRET_ACCESS_KEY"),
            Some(Cloud::Aws)
        );
        assert_eq!(cloud_key_name("GCP_SA_KEY"), Some(Cloud::Gcp));
        assert_eq!(cloud_key_name("ARM_CLIENT_SECRET"), Some(Cloud::Azure));
        assert_eq!(cloud_key_name("AWS_REGION"), None);
        assert!(is_full_sha("3d3c42e5aac5ba805825da76410c181273ba90b1"));
        assert!(!is_full_sha("v4"));
        assert!(!is_full_sha("3d3c42e"));
    }

    #[test]
    fn judges_literals() {
        assert!(!plausible_literal_secret("true"));
        assert!(!plausible_literal_secret("${{ secrets.X }}"));
        assert!(!plausible_literal_secret("https://example.com/x"));
        assert!(!plausible_literal_secret("/certs"));
        assert!(!plausible_literal_secret("short"));
        assert!(plausible_literal_secret(&"x".repeat(20)));
        assert!(names_pr_head(
            "${{ github.event.pull_request.head.sha || github.sha }}"
        ));
        assert!(!names_pr_head("${{ github.sha }}"));
    }
}
