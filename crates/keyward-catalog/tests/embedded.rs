//! The embedded catalogues: counts, order and cross-file consistency.

use std::collections::BTreeSet;

use keyward_catalog::{Catalog, CsfKind, DataFile, Framework, Record, Scope, Theme};

fn catalog() -> &'static Catalog {
    Catalog::embedded().unwrap()
}

#[test]
fn ten_owasp_risks_in_order() {
    let ids: Vec<&str> = catalog().owasp().iter().map(|r| r.id.as_str()).collect();
    let expected: Vec<String> = (1..=10).map(|n| format!("NHI{n}:2025")).collect();
    assert_eq!(ids, expected);
    assert_eq!(catalog().owasp()[0].title, "Improper Offboarding");
    assert_eq!(catalog().owasp()[9].title, "Human Use of NHI");
    assert!(catalog().owasp().iter().all(|r| !r.meaning.is_empty()));
}

#[test]
fn ninety_three_annex_a_controls_by_theme() {
    let annex = catalog().annex_a();
    assert_eq!(annex.len(), 93);
    let count = |t: Theme| annex.iter().filter(|c| c.theme == t).count();
    assert_eq!(count(Theme::Organizational), 37);
    assert_eq!(count(Theme::People), 8);
    assert_eq!(count(Theme::Physical), 14);
    assert_eq!(count(Theme::Technological), 34);
    for c in annex {
        assert!(
            c.id.starts_with(&format!("A.{}.", c.theme.clause())),
            "{}",
            c.id
        );
    }
    assert_eq!(annex[0].id, "A.5.1");
    assert_eq!(annex[92].id, "A.8.34");
}

#[test]
fn one_hundred_and_six_csf_subcategories_each_under_a_listed_category() {
    let c = catalog();
    let subs: Vec<_> = c.csf_subcategories().collect();
    assert_eq!(subs.len(), 106);
    for s in &subs {
        let parent = s.category().unwrap();
        let item = c
            .csf_item(parent)
            .unwrap_or_else(|| panic!("{} has no {parent}", s.id));
        assert_eq!(item.kind, CsfKind::Category);
    }
    let categories = c
        .csf()
        .iter()
        .filter(|i| i.kind == CsfKind::Category)
        .count();
    assert_eq!(categories, 22);
    let functions: BTreeSet<&str> = subs.iter().map(|s| s.function()).collect();
    assert_eq!(
        functions,
        BTreeSet::from(["DE", "GV", "ID", "PR", "RC", "RS"])
    );
}

#[test]
fn every_crosswalk_id_is_known() {
    let c = catalog();
    assert_eq!(c.crosswalk_table().rows().len(), 10);
    for row in c.crosswalk_table().rows() {
        assert!(c.is_known(Framework::OwaspNhi, &row.owasp), "{}", row.owasp);
        assert!(
            !row.annex_a.is_empty() && !row.csf.is_empty(),
            "{}",
            row.owasp
        );
        for a in &row.annex_a {
            assert!(c.is_known(Framework::Iso27001, a), "{}: {a}", row.owasp);
        }
        for s in &row.csf {
            assert!(c.is_known(Framework::NistCsf, s), "{}: {s}", row.owasp);
        }
    }
}

#[test]
fn every_annex_control_has_evidence_in_the_file() {
    // Read the YAML keys directly so the check does not rely only on the parser's own rule.
    let text = DataFile::Evidence.embedded_text();
    let keys: BTreeSet<&str> = text
        .lines()
        .filter(|l| l.starts_with("A."))
        .filter_map(|l| l.strip_suffix(':'))
        .collect();
    let ids: BTreeSet<&str> = catalog().annex_a().iter().map(|c| c.id.as_str()).collect();
    assert_eq!(keys, ids);
}

#[test]
fn crosswalk_mapped_controls_are_not_outside() {
    let c = catalog();
    for row in c.crosswalk_table().rows() {
        for a in &row.annex_a {
            let control = c.annex_control(a).unwrap();
            assert_ne!(
                control.evidence.scope,
                Scope::Outside,
                "{a} from {}",
                row.owasp
            );
        }
    }
}

#[test]
fn records_fit_each_scope() {
    for c in catalog().annex_a() {
        let e = &c.evidence;
        match e.scope {
            Scope::Outside => assert!(e.records.is_empty(), "{}", c.id),
            Scope::Nhi | Scope::Partial => assert!(!e.records.is_empty(), "{}", c.id),
        }
        assert!(!e.note.is_empty(), "{}", c.id);
    }
}

#[test]
fn physical_and_hr_controls_are_outside() {
    let c = catalog();
    for control in c.annex_a().iter().filter(|c| c.theme == Theme::Physical) {
        assert_eq!(control.evidence.scope, Scope::Outside, "{}", control.id);
    }
    for id in ["A.6.1", "A.6.2", "A.6.3", "A.6.4", "A.6.6", "A.6.7"] {
        assert_eq!(
            c.annex_control(id).unwrap().evidence.scope,
            Scope::Outside,
            "{id}"
        );
    }
}

#[test]
fn key_controls_are_evidenced_by_the_expected_records() {
    let c = catalog();
    let has = |id: &str, records: &[Record]| {
        let e = &c.annex_control(id).unwrap().evidence;
        for r in records {
            assert!(e.records.contains(r), "{id} lacks {r}");
        }
    };
    has("A.5.9", &[Record::InventorySnapshot, Record::DiscoveryRuns]);
    has(
        "A.5.15",
        &[Record::CheckFindings, Record::Reviews, Record::Declarations],
    );
    has("A.5.17", &[Record::SecretScans, Record::CheckFindings]);
    has(
        "A.5.18",
        &[Record::CheckFindings, Record::Reviews, Record::Declarations],
    );
    has(
        "A.8.2",
        &[Record::CheckFindings, Record::Reviews, Record::Declarations],
    );
    has("A.8.15", &[Record::Ledger, Record::UsageLogs]);
    has("A.8.32", &[Record::Declarations, Record::Ledger]);
    for id in ["A.5.19", "A.5.20", "A.5.21", "A.5.22"] {
        assert_eq!(
            c.annex_control(id).unwrap().evidence.scope,
            Scope::Partial,
            "{id}"
        );
        has(id, &[Record::InventorySnapshot, Record::CheckFindings]);
    }
    assert_eq!(c.annex_control("A.5.9").unwrap().evidence.scope, Scope::Nhi);
}

#[test]
fn every_record_kind_is_used() {
    let used: BTreeSet<Record> = catalog()
        .annex_a()
        .iter()
        .flat_map(|c| c.evidence.records.iter().copied())
        .collect();
    assert_eq!(used.len(), Record::ALL.len());
}

#[test]
fn scope_counts_add_up() {
    let counts = catalog().scope_counts();
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<usize>(), 93);
    assert_eq!(
        counts,
        [(Scope::Nhi, 7), (Scope::Partial, 36), (Scope::Outside, 50)]
    );
}

#[test]
fn every_file_keeps_its_provenance() {
    for f in DataFile::ALL {
        let first = f.embedded_text().lines().next().unwrap();
        assert!(first.starts_with("# provenance: "), "{f}");
        assert!(
            catalog().provenance(f).is_some_and(|p| !p.is_empty()),
            "{f}"
        );
    }
    assert!(
        catalog()
            .provenance(DataFile::Owasp)
            .unwrap()
            .contains("CC BY-SA 4.0")
    );
}
