//! The errors a custom check raises when it is compiled or evaluated.

/// Why a custom check could not be compiled or could not judge an NHI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegoError {
    /// The module does not parse or compile; `line` and `column` are regorus's, 1-based.
    #[error("`{origin}`:{line}:{column}: {message}")]
    Syntax {
        /// The file the module came from.
        origin: String,
        /// The line regorus points at.
        line: u32,
        /// The column regorus points at.
        column: u32,
        /// What regorus says is wrong.
        message: String,
    },
    /// The module is refused and regorus gives no position.
    #[error("`{origin}`: {message}")]
    Invalid {
        /// The file the module came from.
        origin: String,
        /// What regorus says is wrong.
        message: String,
    },
    /// The module's package is not under `keyward.checks`.
    #[error(
        "`{origin}`: package `{package}` is outside `keyward.checks`; a custom check declares `package keyward.checks.<name>`"
    )]
    PackageOutside {
        /// The file the module came from.
        origin: String,
        /// The package the module declares.
        package: String,
    },
    /// A component of the module's package is not a plain Rego identifier.
    #[error(
        "`{origin}`: package `{package}` has component `{component}`, which is not an identifier"
    )]
    PackageComponent {
        /// The file the module came from.
        origin: String,
        /// The package the module declares.
        package: String,
        /// The offending component.
        component: String,
    },
    /// The module declares no `deny` rule, so it could never find anything.
    #[error("`{origin}`: package `{package}` declares no `deny` rule")]
    NoDeny {
        /// The file the module came from.
        origin: String,
        /// The package the module declares.
        package: String,
    },
    /// The VM backend was required but cannot run this module.
    #[error("`{origin}`: the VM backend cannot run this module: {reason}")]
    VmUnsupported {
        /// The file the module came from.
        origin: String,
        /// What the VM compiler does not support.
        reason: String,
    },
    /// `deny` evaluated to something other than a set or an array.
    #[error("`{package}`: `deny` must be a set or an array of findings, found {found}")]
    DenyNotCollection {
        /// The check's package path.
        package: String,
        /// The value `deny` produced.
        found: String,
    },
    /// A `deny` member is neither a string nor an object with a string `msg`.
    #[error(
        "`{package}`: a `deny` member must be a string or an object with a string `msg`, found {found}"
    )]
    DenyMember {
        /// The check's package path.
        package: String,
        /// The offending member.
        found: String,
    },
    /// `applies` evaluated to something other than a boolean.
    #[error("`{package}`: `applies` must be a boolean, found {found}")]
    AppliesNotBool {
        /// The check's package path.
        package: String,
        /// The value `applies` produced.
        found: String,
    },
    /// The parameters passed for `data.params` are not a JSON object.
    #[error("`{package}`: params must be a JSON object, found {found}")]
    Params {
        /// The check's package path.
        package: String,
        /// The kind of JSON value passed.
        found: &'static str,
    },
    /// The NHI passed as `input` is not a JSON object.
    #[error("`{package}`: input must be a JSON object, found {found}")]
    Input {
        /// The check's package path.
        package: String,
        /// The kind of JSON value passed.
        found: &'static str,
    },
    /// Evaluation failed at run time; `message` is regorus's, with the position when it gives one.
    #[error("`{package}`: evaluation failed: {message}")]
    Evaluation {
        /// The check's package path.
        package: String,
        /// What regorus reports.
        message: String,
    },
}

/// A position and message recovered from one of regorus's rendered diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Located {
    pub(crate) line: u32,
    pub(crate) column: u32,
    pub(crate) message: String,
}

/// Finds the position regorus renders as `--> origin:LINE:COL` and the `error: …` text after it.
///
/// regorus reports syntax and evaluation errors only as rendered text (a source excerpt
/// with a caret), so the position has to be read back out of that text.
pub(crate) fn locate(origin: &str, text: &str) -> Option<Located> {
    let marker = format!("--> {origin}:");
    let start = text.find(&marker)? + marker.len();
    let rest = &text[start..];
    let (line, rest) = leading_number(rest)?;
    let rest = rest.strip_prefix(':')?;
    let (column, rest) = leading_number(rest)?;
    let message = match rest.find("error: ") {
        Some(at) => rest[at + "error: ".len()..].trim(),
        None => text.trim(),
    };
    Some(Located {
        line,
        column,
        message: message.to_owned(),
    })
}

fn leading_number(text: &str) -> Option<(u32, &str)> {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let number = text[..end].parse().ok()?;
    Some((number, &text[end..]))
}

/// Renders a regorus diagnostic on one line: `` `origin`:LINE:COL: message `` when it is
/// located, otherwise the text with its lines joined.
pub(crate) fn one_line(origin: &str, text: &str) -> String {
    match locate(origin, text) {
        Some(at) => format!("`{origin}`:{}:{}: {}", at.line, at.column, at.message),
        None => text.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RENDERED: &str = "\n--> policies/x.rego:3:11\n  |\n3 | deny[msg] {\n  |           ^\nerror: `if` keyword is required before rule body";

    #[test]
    fn reads_position_and_message_back() {
        let at = locate("policies/x.rego", RENDERED).unwrap();
        assert_eq!(
            at,
            Located {
                line: 3,
                column: 11,
                message: "`if` keyword is required before rule body".to_owned()
            }
        );
    }

    #[test]
    fn other_files_and_plain_text_are_not_located() {
        assert_eq!(locate("other.rego", RENDERED), None);
        assert_eq!(locate("x.rego", "policy too long"), None);
        assert_eq!(one_line("x.rego", "two\n  lines"), "two lines");
    }

    #[test]
    fn origins_with_colons_still_locate() {
        let text = "\n--> C:\\p\\x.rego:12:1\n  |\nerror: boom";
        let at = locate("C:\\p\\x.rego", text).unwrap();
        assert_eq!((at.line, at.column, at.message.as_str()), (12, 1, "boom"));
    }
}
