//! Arbitrary bytes and mutations of valid samples never panic the parsers or the resolution.

use keyward_aws::{
    generate_account, parse_authorization_details, parse_credential_report, resolve,
};
use proptest::prelude::*;

fn sample_details() -> String {
    generate_account(4, 4, 2).document
}

fn sample_report() -> String {
    let acct = "123456789012";
    format!(
        "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n\
<root_account>,arn:aws:iam::{acct}:root,2017-04-03T09:00:00+00:00,not_supported,2026-10-01T08:30:00+00:00,not_supported,not_supported,true,true,2018-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n\
svc,arn:aws:iam::{acct}:user/svc,2019-01-01T00:00:00Z,true,no_information,2019-01-01T00:00:00Z,N/A,false,true,2019-01-02T00:00:00Z,2026-11-20T10:00:00Z,eu-west-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
    )
}

/// Applies edits to bytes: overwrite, delete or insert at positions taken modulo the length.
fn mutate(mut bytes: Vec<u8>, edits: &[(u8, usize, u8)]) -> Vec<u8> {
    for &(op, at, b) in edits {
        if bytes.is_empty() {
            bytes.push(b);
            continue;
        }
        let i = at % bytes.len();
        match op % 4 {
            0 => bytes[i] = b,
            1 => {
                bytes.remove(i);
            }
            2 => bytes.insert(i, b),
            _ => bytes.truncate(i),
        }
    }
    bytes
}

fn run(details: &[u8], report: &[u8]) {
    let d = parse_authorization_details("d.json".as_ref(), details);
    let r = parse_credential_report("r.csv".as_ref(), report);
    if let (Ok(d), Ok(r)) = (d, r) {
        let _ = resolve(&[d], &[r], None);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        run(&bytes, &bytes);
    }

    #[test]
    fn mutated_samples_never_panic(edits in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..8)) {
        let details = mutate(sample_details().into_bytes(), &edits);
        let report = mutate(sample_report().into_bytes(), &edits);
        run(&details, sample_report().as_bytes());
        run(sample_details().as_bytes(), &report);
    }

    #[test]
    fn mutated_json_tokens_never_panic(at in any::<usize>(), pick in 0usize..8) {
        // Swaps a value for another type: the mutation that typed parsing is most exposed to.
        let doc = sample_details();
        let replacements = ["null", "[]", "{}", "7", "\"x\"", "true", "\"%ZZ\"", "[\"*\"]"];
        let starts: Vec<usize> = doc.match_indices(": ").map(|(i, _)| i + 2).collect();
        let start = starts[at % starts.len()];
        let end = doc[start..].find([',', '\n']).map_or(doc.len(), |e| start + e);
        let mutated = format!("{}{}{}", &doc[..start], replacements[pick], &doc[end..]);
        run(mutated.as_bytes(), sample_report().as_bytes());
    }
}
