//! Bad catalogue data is refused with an error naming the file, line and field.

use keyward_catalog::{Catalog, CatalogError, DataFile, Framework};

const OWASP: &str = "# provenance: test\nid\ttitle\tmeaning\nNHI1:2025\tImproper Offboarding\tOutlives its owner.\n";
const ANNEX: &str = "ref_id\ttitle\nA.5.9\tInventory\nA.7.1\tPerimeters\n";
const CSF: &str = "id\tkind\ttext\nID.AM\tcategory\tAsset Management: assets are known\nID.AM-08\tsubcategory\tAssets are managed through their life cycles\n";
const CROSSWALK: &str = "owasp\tiso27001_2022_annex_a\tnist_csf_2_0\nNHI1:2025\tA.5.9\tID.AM-08\n";
const EVIDENCE: &str = "A.5.9:\n  scope: nhi\n  records: [inventory_snapshot]\n  note: Listed.\nA.7.1:\n  scope: outside\n  records: []\n  note: Not ours.\n";

/// The five small files above, with `file` replaced by `text`.
fn parse_with(file: DataFile, text: &str) -> Result<Catalog, CatalogError> {
    let pick = |f: DataFile, default: &'static str| if f == file { text } else { default };
    Catalog::parse(
        pick(DataFile::Owasp, OWASP),
        pick(DataFile::AnnexA, ANNEX),
        pick(DataFile::Csf, CSF),
        pick(DataFile::Crosswalk, CROSSWALK),
        pick(DataFile::Evidence, EVIDENCE),
    )
}

fn error_with(file: DataFile, text: &str) -> CatalogError {
    let err = parse_with(file, text).unwrap_err();
    assert_eq!(err.file(), file, "{err}");
    err
}

#[test]
fn the_small_catalogue_parses() {
    let c = parse_with(DataFile::Owasp, OWASP).unwrap();
    assert_eq!(c.owasp().len(), 1);
    assert_eq!(c.annex_a().len(), 2);
    assert_eq!(c.csf_subcategories().count(), 1);
    assert_eq!(c.provenance(DataFile::Owasp), Some("test"));
    assert_eq!(c.provenance(DataFile::AnnexA), None);
}

#[test]
fn wrong_column_count_names_file_and_line() {
    let err = error_with(
        DataFile::Owasp,
        &format!("{OWASP}NHI2:2025\tSecret Leakage\n"),
    );
    assert_eq!(
        err.to_string(),
        "owasp-nhi-top10-2025.tsv:4: expected 3 tab-separated fields, found 2"
    );
    assert_eq!(err.line(), Some(4));

    let err = error_with(DataFile::AnnexA, "ref_id\ttitle\nA.5.9\tInventory\textra\n");
    assert_eq!(
        err,
        CatalogError::Columns {
            file: DataFile::AnnexA,
            line: 2,
            expected: 2,
            found: 3
        }
    );

    let err = error_with(
        DataFile::Csf,
        &format!("{CSF}ID.AM-09 subcategory spaces, not tabs\n"),
    );
    assert!(
        err.to_string()
            .starts_with("nist-csf-2.0.tsv:4: expected 3"),
        "{err}"
    );

    let err = error_with(DataFile::Crosswalk, &format!("{CROSSWALK}NHI1:2025\n"));
    assert!(
        err.to_string().starts_with("nhi-crosswalk.tsv:3: "),
        "{err}"
    );
}

#[test]
fn wrong_header_is_refused() {
    let err = error_with(DataFile::Owasp, "id\tname\tmeaning\n");
    assert_eq!(
        err.to_string(),
        "owasp-nhi-top10-2025.tsv:1: header is `id\tname\tmeaning`, expected `id\ttitle\tmeaning`"
    );
    let err = error_with(DataFile::Csf, "# only a comment\n");
    assert_eq!(err.to_string(), "nist-csf-2.0.tsv: no header line");
}

#[test]
fn malformed_ids_and_empty_fields_name_the_field() {
    let err = error_with(DataFile::Owasp, "id\ttitle\tmeaning\nNHI-1\tA\tB\n");
    assert_eq!(
        err.to_string(),
        "owasp-nhi-top10-2025.tsv:2: field `id`: `NHI-1` is not an OWASP NHI id like `NHI1:2025`"
    );
    let err = error_with(DataFile::AnnexA, "ref_id\ttitle\nA.9.1\tNo such clause\n");
    assert!(
        matches!(
            err,
            CatalogError::Field {
                field: "ref_id",
                line: 2,
                ..
            }
        ),
        "{err}"
    );
    let err = error_with(DataFile::AnnexA, "ref_id\ttitle\nA.5.9\t \n");
    assert_eq!(
        err.to_string(),
        "iso27001-2022-annex-a.tsv:2: field `title`: is empty"
    );
    let err = error_with(DataFile::Csf, "id\tkind\ttext\nID.AM\tfunction\tIdentify\n");
    assert!(
        err.to_string().contains("not a CSF function id like `PR`"),
        "{err}"
    );
    let err = error_with(DataFile::Csf, "id\tkind\ttext\nID.AM\tgroup\tAssets\n");
    assert!(
        matches!(
            &err,
            CatalogError::Field {
                field: "kind",
                line: 2,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn duplicate_ids_are_refused() {
    let err = error_with(DataFile::AnnexA, &format!("{ANNEX}A.5.9\tAgain\n"));
    assert_eq!(
        err.to_string(),
        "iso27001-2022-annex-a.tsv:4: field `ref_id`: `A.5.9` is listed twice, first on line 2"
    );
    let err = error_with(
        DataFile::Crosswalk,
        &format!("{CROSSWALK}NHI1\tA.5.9\tID.AM-08\n"),
    );
    assert!(
        matches!(
            err,
            CatalogError::Duplicate {
                line: 3,
                first: 2,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn subcategory_without_its_category_is_refused() {
    let err = error_with(
        DataFile::Csf,
        "id\tkind\ttext\nID.AM-08\tsubcategory\tAssets are managed\n",
    );
    assert_eq!(
        err.to_string(),
        "nist-csf-2.0.tsv:2: field `id`: `ID.AM-08` belongs to `ID.AM`, which is not listed"
    );
}

#[test]
fn crosswalk_references_must_be_known() {
    let err = error_with(
        DataFile::Crosswalk,
        "owasp\tiso27001_2022_annex_a\tnist_csf_2_0\nNHI1:2025\tA.5.9 A.5.99\tID.AM-08\n",
    );
    assert_eq!(
        err,
        CatalogError::UnknownReference {
            file: DataFile::Crosswalk,
            line: 2,
            field: "iso27001_2022_annex_a",
            framework: Framework::Iso27001,
            id: "A.5.99".into(),
        }
    );
    assert_eq!(
        err.to_string(),
        "nhi-crosswalk.tsv:2: field `iso27001_2022_annex_a`: unknown ISO/IEC 27001:2022 Annex A id `A.5.99`"
    );
    let err = error_with(
        DataFile::Crosswalk,
        "owasp\tiso27001_2022_annex_a\tnist_csf_2_0\nNHI1:2025\tA.5.9\tPR.AC-01\n",
    );
    assert!(
        err.to_string()
            .contains("field `nist_csf_2_0`: unknown NIST CSF 2.0 id `PR.AC-01`"),
        "{err}"
    );
    let err = error_with(
        DataFile::Crosswalk,
        "owasp\tiso27001_2022_annex_a\tnist_csf_2_0\nNHI11:2025\tA.5.9\tID.AM-08\n",
    );
    assert!(
        matches!(
            err,
            CatalogError::UnknownReference {
                framework: Framework::OwaspNhi,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn unknown_record_kind_names_control_value_and_line() {
    let bad = EVIDENCE.replace("[inventory_snapshot]", "[inventory_snapshot, audit_trail]");
    let err = error_with(DataFile::Evidence, &bad);
    let CatalogError::UnknownRecord {
        line,
        control,
        value,
        ..
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(
        (*line, control.as_str(), value.as_str()),
        (3, "A.5.9", "audit_trail")
    );
    let text = err.to_string();
    assert!(
        text.starts_with(
            "annex-a-evidence.yaml:3: control `A.5.9`: field `records`: unknown record kind `audit_trail`; expected one of `inventory_snapshot`, `ownership`,"
        ),
        "{text}"
    );
    assert!(text.ends_with("`usage_logs`"), "{text}");
}

#[test]
fn missing_control_names_file_and_control() {
    let err = error_with(
        DataFile::Evidence,
        "A.5.9:\n  scope: nhi\n  records: [ledger]\n  note: Listed.\n",
    );
    assert_eq!(
        err,
        CatalogError::MissingEvidence {
            file: DataFile::Evidence,
            control: "A.7.1".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "annex-a-evidence.yaml: control `A.7.1` has no evidence entry"
    );
    assert_eq!(err.line(), None);
}

#[test]
fn missing_control_in_the_embedded_data_is_caught() {
    let full = DataFile::Evidence.embedded_text();
    let start = full.find("\nA.8.32:\n").unwrap() + 1;
    let end = start + full[start..].find("\nA.8.33:").unwrap() + 1;
    let cut = format!("{}{}", &full[..start], &full[end..]);
    let err = Catalog::parse(
        DataFile::Owasp.embedded_text(),
        DataFile::AnnexA.embedded_text(),
        DataFile::Csf.embedded_text(),
        DataFile::Crosswalk.embedded_text(),
        &cut,
    )
    .err()
    .unwrap();
    assert_eq!(
        err.to_string(),
        "annex-a-evidence.yaml: control `A.8.32` has no evidence entry"
    );
}

#[test]
fn evidence_for_an_unknown_control_is_refused() {
    let extra = format!("{EVIDENCE}A.9.9:\n  scope: outside\n  records: []\n  note: No.\n");
    let err = error_with(DataFile::Evidence, &extra);
    assert_eq!(
        err.to_string(),
        "annex-a-evidence.yaml:9: evidence for unknown control `A.9.9`"
    );
}

#[test]
fn crosswalk_mapped_control_cannot_be_outside() {
    let bad = EVIDENCE.replace(
        "A.5.9:\n  scope: nhi\n  records: [inventory_snapshot]",
        "A.5.9:\n  scope: outside\n  records: []",
    );
    let err = error_with(DataFile::Evidence, &bad);
    assert_eq!(
        err.to_string(),
        "annex-a-evidence.yaml:1: control `A.5.9`: field `scope`: the crosswalk maps `NHI1:2025` to this control, so it cannot be `outside`"
    );
}

#[test]
fn unknown_evidence_field_is_refused_with_its_line() {
    let bad = EVIDENCE.replace(
        "  note: Not ours.\n",
        "  note: Not ours.\n  owner: someone\n",
    );
    let err = error_with(DataFile::Evidence, &bad);
    assert_eq!(err.line(), Some(9), "{err}");
    assert!(err.to_string().contains("owner"), "{err}");
}
