//! Keyward's control catalogues: the OWASP Non-Human Identities Top 10 (2025), the 93
//! ISO/IEC 27001:2022 Annex A controls, the NIST CSF 2.0 categories and subcategories, the
//! crosswalk from each OWASP risk to the Annex A controls and CSF subcategories it bears on, and
//! for every Annex A control how Keyward's records evidence it (or that they do not).
//!
//! The data lives under `data/catalogues/` as tab-separated files plus one YAML file, and is
//! embedded in the binary. [`Catalog::embedded`] parses it once; [`Catalog::parse`] reads other
//! copies and names the file, line and field of anything wrong. Only ids, titles and Keyward's
//! own paraphrases are shipped for Annex A, never ISO's control text.
//!
//! ```
//! use keyward_catalog::{Catalog, Framework};
//!
//! let catalog = Catalog::embedded()?;
//! assert_eq!(catalog.normalize_owasp("NHI2"), Some("NHI2:2025"));
//! assert_eq!(catalog.title(Framework::Iso27001, "A.5.17"), Some("Authentication information"));
//! let (annex, _csf) = catalog.crosswalk("NHI7").unwrap_or_default();
//! assert!(annex.iter().any(|id| id == "A.5.17"));
//! # Ok::<(), keyward_catalog::CatalogError>(())
//! ```

mod error;
mod evidence;
mod framework;
mod ids;
mod model;
mod tsv;

use std::collections::HashMap;
use std::sync::LazyLock;

pub use error::{CatalogError, DataFile};
pub use framework::{Framework, UnknownFramework};
pub use model::{
    AnnexAControl, Crosswalk, CrosswalkRow, CsfItem, CsfKind, Evidence, OwaspRisk, Record, Scope,
    Theme,
};

/// The parsed catalogues, with indexes for lookups by id.
#[derive(Debug, Clone)]
pub struct Catalog {
    owasp: Vec<OwaspRisk>,
    annex: Vec<AnnexAControl>,
    annex_index: HashMap<String, usize>,
    csf: Vec<CsfItem>,
    csf_index: HashMap<String, usize>,
    crosswalk: Crosswalk,
    provenance: Vec<(DataFile, String)>,
}

static EMBEDDED: LazyLock<Result<Catalog, CatalogError>> = LazyLock::new(|| {
    Catalog::parse(
        DataFile::Owasp.embedded_text(),
        DataFile::AnnexA.embedded_text(),
        DataFile::Csf.embedded_text(),
        DataFile::Crosswalk.embedded_text(),
        DataFile::Evidence.embedded_text(),
    )
});

impl Catalog {
    /// The catalogues embedded in this build, parsed on first use. The test suite parses the
    /// same data, so an error here means a broken build rather than bad input.
    pub fn embedded() -> Result<&'static Catalog, CatalogError> {
        EMBEDDED.as_ref().map_err(Clone::clone)
    }

    /// Parses and cross-checks the five catalogue files, given as text.
    pub fn parse(
        owasp_tsv: &str,
        annex_tsv: &str,
        csf_tsv: &str,
        crosswalk_tsv: &str,
        evidence_yaml: &str,
    ) -> Result<Catalog, CatalogError> {
        let owasp = parse_owasp(owasp_tsv)?;
        let annex_rows = parse_annex(annex_tsv)?;
        let csf = parse_csf(csf_tsv)?;
        let annex_index: HashMap<String, usize> = annex_rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        let csf_index: HashMap<String, usize> = csf
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i))
            .collect();
        let crosswalk = parse_crosswalk(crosswalk_tsv, &owasp, &annex_index, &csf_index)?;
        let annex = attach_evidence(annex_rows, &annex_index, &crosswalk, evidence_yaml)?;
        let provenance = [
            (DataFile::Owasp, owasp_tsv),
            (DataFile::AnnexA, annex_tsv),
            (DataFile::Csf, csf_tsv),
            (DataFile::Crosswalk, crosswalk_tsv),
            (DataFile::Evidence, evidence_yaml),
        ]
        .into_iter()
        .filter_map(|(f, text)| tsv::provenance(text).map(|p| (f, p.to_owned())))
        .collect();
        Ok(Catalog {
            owasp,
            annex,
            annex_index,
            csf,
            csf_index,
            crosswalk,
            provenance,
        })
    }

    /// The OWASP NHI risks in file order (`NHI1:2025` first).
    pub fn owasp(&self) -> &[OwaspRisk] {
        &self.owasp
    }

    /// The OWASP risk with id `id` (`NHI1:2025` or `NHI1`).
    pub fn owasp_risk(&self, id: &str) -> Option<&OwaspRisk> {
        let full = self.normalize_owasp(id)?;
        self.owasp.iter().find(|r| r.id == full)
    }

    /// Every Annex A control in file order, each with its evidence.
    pub fn annex_a(&self) -> &[AnnexAControl] {
        &self.annex
    }

    /// The Annex A control with id `id`, as in `A.5.9`.
    pub fn annex_control(&self, id: &str) -> Option<&AnnexAControl> {
        self.annex_index.get(id).and_then(|i| self.annex.get(*i))
    }

    /// Every CSF 2.0 item (functions if listed, categories and subcategories) in file order.
    pub fn csf(&self) -> &[CsfItem] {
        &self.csf
    }

    /// The CSF 2.0 subcategories in file order.
    pub fn csf_subcategories(&self) -> impl Iterator<Item = &CsfItem> {
        self.csf.iter().filter(|c| c.kind == CsfKind::Subcategory)
    }

    /// The CSF 2.0 item with id `id`, as in `PR.AA` or `PR.AA-01`.
    pub fn csf_item(&self, id: &str) -> Option<&CsfItem> {
        self.csf_index.get(id).and_then(|i| self.csf.get(*i))
    }

    /// The Annex A controls and CSF items that OWASP risk `owasp_id` (`NHI1:2025` or `NHI1`)
    /// bears on, if the crosswalk has a row for it.
    pub fn crosswalk(&self, owasp_id: &str) -> Option<(&[String], &[String])> {
        let full = self.normalize_owasp(owasp_id)?;
        self.crosswalk
            .row(full)
            .map(|r| (r.annex_a.as_slice(), r.csf.as_slice()))
    }

    /// The whole crosswalk, for reverse lookups and reports.
    pub fn crosswalk_table(&self) -> &Crosswalk {
        &self.crosswalk
    }

    /// Whether `id` is in `framework`'s catalogue. OWASP ids may omit the year (`NHI1`).
    pub fn is_known(&self, framework: Framework, id: &str) -> bool {
        self.title(framework, id).is_some()
    }

    /// The title of `id` in `framework`: an OWASP risk's or Annex A control's title, a CSF
    /// category's name, or a CSF subcategory's text.
    pub fn title(&self, framework: Framework, id: &str) -> Option<&str> {
        match framework {
            Framework::OwaspNhi => self.owasp_risk(id).map(|r| r.title.as_str()),
            Framework::Iso27001 => self.annex_control(id).map(|c| c.title.as_str()),
            Framework::NistCsf => self.csf_item(id).map(CsfItem::name),
        }
    }

    /// The full OWASP id for `id`: `NHI1` and `NHI1:2025` (in any case) both give `NHI1:2025`.
    pub fn normalize_owasp(&self, id: &str) -> Option<&str> {
        let id = id.trim();
        self.owasp
            .iter()
            .find(|r| r.id.eq_ignore_ascii_case(id) || r.short_id().eq_ignore_ascii_case(id))
            .map(|r| r.id.as_str())
    }

    /// The provenance line (`# provenance: …`) of `file`, for attribution in reports.
    pub fn provenance(&self, file: DataFile) -> Option<&str> {
        self.provenance
            .iter()
            .find(|(f, _)| *f == file)
            .map(|(_, p)| p.as_str())
    }

    /// How many Annex A controls have each evidence scope.
    pub fn scope_counts(&self) -> [(Scope, usize); 3] {
        Scope::ALL.map(|s| {
            (
                s,
                self.annex.iter().filter(|c| c.evidence.scope == s).count(),
            )
        })
    }
}

/// Checks that `id` appears once, remembering the line it was first seen on.
fn once(
    seen: &mut HashMap<String, usize>,
    file: DataFile,
    line: usize,
    field: &'static str,
    id: &str,
) -> Result<(), CatalogError> {
    if let Some(first) = seen.insert(id.to_owned(), line) {
        return Err(CatalogError::Duplicate {
            file,
            line,
            field,
            id: id.to_owned(),
            first,
        });
    }
    Ok(())
}

fn parse_owasp(text: &str) -> Result<Vec<OwaspRisk>, CatalogError> {
    const FILE: DataFile = DataFile::Owasp;
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for row in tsv::rows(FILE, text, &["id", "title", "meaning"])? {
        let id = row.required(FILE, 0, "id")?;
        if ids::owasp_number(id).is_none() {
            return Err(CatalogError::Field {
                file: FILE,
                line: row.line,
                field: "id",
                reason: format!("`{id}` is not an OWASP NHI id like `NHI1:2025`"),
            });
        }
        let short = id.split_once(':').map_or(id, |(s, _)| s);
        once(&mut seen, FILE, row.line, "id", short)?;
        out.push(OwaspRisk {
            id: id.to_owned(),
            title: row.required(FILE, 1, "title")?.to_owned(),
            meaning: row.required(FILE, 2, "meaning")?.to_owned(),
        });
    }
    Ok(out)
}

/// An Annex A row before its evidence is attached.
struct AnnexRow {
    id: String,
    title: String,
    theme: Theme,
}

fn parse_annex(text: &str) -> Result<Vec<AnnexRow>, CatalogError> {
    const FILE: DataFile = DataFile::AnnexA;
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for row in tsv::rows(FILE, text, &["ref_id", "title"])? {
        let id = row.required(FILE, 0, "ref_id")?;
        let theme = ids::annex_clause(id)
            .and_then(Theme::from_clause)
            .ok_or_else(|| CatalogError::Field {
                file: FILE,
                line: row.line,
                field: "ref_id",
                reason: format!("`{id}` is not an Annex A control id like `A.5.9`"),
            })?;
        once(&mut seen, FILE, row.line, "ref_id", id)?;
        out.push(AnnexRow {
            id: id.to_owned(),
            title: row.required(FILE, 1, "title")?.to_owned(),
            theme,
        });
    }
    Ok(out)
}

fn parse_csf(text: &str) -> Result<Vec<CsfItem>, CatalogError> {
    const FILE: DataFile = DataFile::Csf;
    let mut seen = HashMap::new();
    let mut out: Vec<CsfItem> = Vec::new();
    let rows = tsv::rows(FILE, text, &["id", "kind", "text"])?;
    for row in &rows {
        let id = row.required(FILE, 0, "id")?;
        let kind_name = row.required(FILE, 1, "kind")?;
        let kind = CsfKind::from_name(kind_name).ok_or_else(|| CatalogError::Field {
            file: FILE,
            line: row.line,
            field: "kind",
            reason: format!(
                "unknown kind `{kind_name}`; expected `function`, `category` or `subcategory`"
            ),
        })?;
        let shaped = match kind {
            CsfKind::Function => ids::is_csf_function(id),
            CsfKind::Category => ids::is_csf_category(id),
            CsfKind::Subcategory => ids::is_csf_subcategory(id),
        };
        if !shaped {
            let example = match kind {
                CsfKind::Function => "PR",
                CsfKind::Category => "PR.AA",
                CsfKind::Subcategory => "PR.AA-01",
            };
            return Err(CatalogError::Field {
                file: FILE,
                line: row.line,
                field: "id",
                reason: format!("`{id}` is not a CSF {kind} id like `{example}`"),
            });
        }
        once(&mut seen, FILE, row.line, "id", id)?;
        out.push(CsfItem {
            id: id.to_owned(),
            kind,
            text: row.required(FILE, 2, "text")?.to_owned(),
        });
    }
    // Parents may be listed after their children, so check once every id is known.
    let has_functions = out.iter().any(|c| c.kind == CsfKind::Function);
    for (row, item) in rows.iter().zip(&out) {
        let parent = match item.kind {
            CsfKind::Subcategory => item.category(),
            CsfKind::Category if has_functions => Some(item.function()),
            CsfKind::Category | CsfKind::Function => None,
        };
        if let Some(parent) = parent
            && !seen.contains_key(parent)
        {
            return Err(CatalogError::Field {
                file: FILE,
                line: row.line,
                field: "id",
                reason: format!("`{}` belongs to `{parent}`, which is not listed", item.id),
            });
        }
    }
    Ok(out)
}

fn parse_crosswalk(
    text: &str,
    owasp: &[OwaspRisk],
    annex_index: &HashMap<String, usize>,
    csf_index: &HashMap<String, usize>,
) -> Result<Crosswalk, CatalogError> {
    const FILE: DataFile = DataFile::Crosswalk;
    const COLUMNS: [&str; 3] = ["owasp", "iso27001_2022_annex_a", "nist_csf_2_0"];
    let mut seen = HashMap::new();
    let mut rows = Vec::new();
    for row in tsv::rows(FILE, text, &COLUMNS)? {
        let given = row.required(FILE, 0, COLUMNS[0])?;
        let risk = owasp
            .iter()
            .find(|r| r.id == given || r.short_id() == given)
            .ok_or_else(|| CatalogError::UnknownReference {
                file: FILE,
                line: row.line,
                field: COLUMNS[0],
                framework: Framework::OwaspNhi,
                id: given.to_owned(),
            })?;
        once(&mut seen, FILE, row.line, COLUMNS[0], &risk.id)?;
        let list = |index: usize, framework: Framework, known: &HashMap<String, usize>| {
            let mut ids: Vec<String> = Vec::new();
            for id in row
                .fields
                .get(index)
                .copied()
                .unwrap_or_default()
                .split_whitespace()
            {
                if !known.contains_key(id) {
                    return Err(CatalogError::UnknownReference {
                        file: FILE,
                        line: row.line,
                        field: COLUMNS[index],
                        framework,
                        id: id.to_owned(),
                    });
                }
                if ids.iter().any(|i| i == id) {
                    return Err(CatalogError::Field {
                        file: FILE,
                        line: row.line,
                        field: COLUMNS[index],
                        reason: format!("`{id}` is listed twice"),
                    });
                }
                ids.push(id.to_owned());
            }
            Ok(ids)
        };
        rows.push(CrosswalkRow {
            owasp: risk.id.clone(),
            annex_a: list(1, Framework::Iso27001, annex_index)?,
            csf: list(2, Framework::NistCsf, csf_index)?,
        });
    }
    Ok(Crosswalk { rows })
}

fn attach_evidence(
    rows: Vec<AnnexRow>,
    annex_index: &HashMap<String, usize>,
    crosswalk: &Crosswalk,
    text: &str,
) -> Result<Vec<AnnexAControl>, CatalogError> {
    const FILE: DataFile = DataFile::Evidence;
    let mut slots: Vec<Option<evidence::Entry>> = rows.iter().map(|_| None).collect();
    for entry in evidence::parse(text)? {
        let slot = annex_index
            .get(&entry.control)
            .and_then(|i| slots.get_mut(*i))
            .ok_or_else(|| CatalogError::UnknownControl {
                file: FILE,
                line: entry.line,
                control: entry.control.clone(),
            })?;
        if entry.evidence.scope == Scope::Outside
            && let Some(risk) = crosswalk.risks_for_annex(&entry.control).next()
        {
            return Err(CatalogError::MappedOutside {
                file: FILE,
                line: entry.line,
                control: entry.control.clone(),
                risk: risk.to_owned(),
            });
        }
        *slot = Some(entry);
    }
    rows.into_iter()
        .zip(slots)
        .map(|(row, slot)| match slot {
            Some(entry) => Ok(AnnexAControl {
                id: row.id,
                title: row.title,
                theme: row.theme,
                evidence: entry.evidence,
            }),
            None => Err(CatalogError::MissingEvidence {
                file: FILE,
                control: row.id,
            }),
        })
        .collect()
}
