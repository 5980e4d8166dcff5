//! Custom checks in Rego: the NHI's [`Subject`] is `input`, the check's parameters are
//! `data.params`, and each member of the module's `deny` set is a violation.

use chrono::{DateTime, Utc};
use keyward_rego::{PreparedInput, RegoCheck, Verdict};

use crate::{CheckError, Evidence, Outcome, Params, Subject};

/// The NHI as Rego's `input`: the subject with `now` added, converted once for every custom
/// check that judges it.
pub(crate) fn input(subject: &Subject, now: DateTime<Utc>) -> Result<PreparedInput, CheckError> {
    let mut input = serde_json::to_value(subject)
        .map_err(|e| CheckError::Rego(format!("cannot encode NHI {} for Rego: {e}", subject.id)))?;
    if let Some(o) = input.as_object_mut() {
        o.insert(
            "now".into(),
            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                .into(),
        );
    }
    Ok(PreparedInput::new(&input))
}

/// Evaluates one custom check on one NHI's prepared input.
pub(crate) fn evaluate(
    rego: &mut RegoCheck,
    id: &str,
    subject: &Subject,
    input: &PreparedInput,
    params: &Params,
) -> Result<Outcome, CheckError> {
    let verdict = rego
        .evaluate_prepared(input, &params.to_json())
        .map_err(|e| CheckError::Rego(format!("check `{id}` on {}: {e}", subject.id)))?;
    Ok(match verdict {
        Verdict::NotApplicable => Outcome::NotApplicable,
        Verdict::Pass => Outcome::Pass,
        Verdict::Fail(violations) => {
            let mut e = Evidence::new(
                violations
                    .iter()
                    .map(|v| v.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
            .source("policy");
            for v in &violations {
                for (k, val) in &v.fields {
                    e.fields.entry(k.clone()).or_insert_with(|| val.clone());
                }
            }
            if violations.len() > 1 {
                e = e.field("violations", violations.len());
            }
            Outcome::Fail(e)
        }
    })
}
