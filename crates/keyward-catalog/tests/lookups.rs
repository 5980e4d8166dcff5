//! Lookups by id and framework names.

use keyward_catalog::{Catalog, Framework, Scope, Theme};

fn catalog() -> &'static Catalog {
    Catalog::embedded().unwrap()
}

#[test]
fn framework_names_parse_and_display() {
    for (name, f) in [
        ("iso27001", Framework::Iso27001),
        ("nist-csf", Framework::NistCsf),
        ("owasp-nhi", Framework::OwaspNhi),
    ] {
        assert_eq!(name.parse::<Framework>().unwrap(), f);
        assert_eq!(f.to_string(), name);
    }
}

#[test]
fn unknown_framework_lists_the_three() {
    let err = "soc2".parse::<Framework>().unwrap_err();
    assert_eq!(err.name, "soc2");
    assert_eq!(
        err.to_string(),
        "unknown framework `soc2`; expected `iso27001`, `nist-csf` or `owasp-nhi`"
    );
}

#[test]
fn normalize_owasp_accepts_short_and_full_ids() {
    let c = catalog();
    assert_eq!(c.normalize_owasp("NHI1"), Some("NHI1:2025"));
    assert_eq!(c.normalize_owasp("NHI1:2025"), Some("NHI1:2025"));
    assert_eq!(c.normalize_owasp("nhi10"), Some("NHI10:2025"));
    assert_eq!(c.normalize_owasp("NHI11"), None);
    assert_eq!(c.normalize_owasp("NHI1:2021"), None);
    assert_eq!(c.normalize_owasp("NHI"), None);
    assert_eq!(c.normalize_owasp(""), None);
}

#[test]
fn is_known_per_framework() {
    let c = catalog();
    assert!(c.is_known(Framework::OwaspNhi, "NHI5"));
    assert!(c.is_known(Framework::OwaspNhi, "NHI5:2025"));
    assert!(!c.is_known(Framework::OwaspNhi, "A.5.9"));
    assert!(c.is_known(Framework::Iso27001, "A.8.34"));
    assert!(!c.is_known(Framework::Iso27001, "A.8.35"));
    assert!(!c.is_known(Framework::Iso27001, "NHI5"));
    assert!(c.is_known(Framework::NistCsf, "PR.AA-05"));
    assert!(c.is_known(Framework::NistCsf, "PR.AA"));
    assert!(!c.is_known(Framework::NistCsf, "PR.AC-01"), "a CSF 1.1 id");
}

#[test]
fn titles_per_framework() {
    let c = catalog();
    assert_eq!(c.title(Framework::OwaspNhi, "NHI2"), Some("Secret Leakage"));
    assert_eq!(
        c.title(Framework::Iso27001, "A.5.9"),
        Some("Inventory of information and other associated assets")
    );
    assert_eq!(
        c.title(Framework::NistCsf, "PR.AA"),
        Some("Identity Management, Authentication, and Access Control")
    );
    assert!(
        c.title(Framework::NistCsf, "PR.AA-01")
            .unwrap()
            .starts_with("Identities and credentials")
    );
    assert_eq!(c.title(Framework::Iso27001, "A.9.1"), None);
}

#[test]
fn crosswalk_by_short_or_full_id() {
    let c = catalog();
    let (annex, csf) = c.crosswalk("NHI1").unwrap();
    assert_eq!(c.crosswalk("NHI1:2025").unwrap(), (annex, csf));
    assert!(annex.iter().any(|a| a == "A.5.9"));
    assert!(csf.iter().any(|s| s == "ID.AM-08"));
    assert!(c.crosswalk("NHI42").is_none());
    let risks: Vec<&str> = c.crosswalk_table().risks_for_annex("A.5.17").collect();
    assert_eq!(risks, ["NHI2:2025", "NHI4:2025", "NHI7:2025", "NHI9:2025"]);
    let risks: Vec<&str> = c.crosswalk_table().risks_for_csf("PR.AA-05").collect();
    assert_eq!(risks, ["NHI1:2025", "NHI5:2025", "NHI8:2025"]);
}

#[test]
fn annex_control_carries_theme_and_evidence() {
    let c = catalog().annex_control("A.7.4").unwrap();
    assert_eq!(c.theme, Theme::Physical);
    assert_eq!(c.evidence.scope, Scope::Outside);
    assert!(c.evidence.note.contains("outside NHI governance"));
}
