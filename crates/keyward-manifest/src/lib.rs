//! Reads and validates Keyward's inputs as code: NHI declarations in YAML and the people CSV.
//!
//! Loading is all or nothing. [`load_paths`] reads `apiVersion: keyward/v1` documents from files
//! and directories into [`DeclaredNhi`]s; [`load_people_csv`] reads the HR directory into
//! [`Person`]s. Either returns every problem it finds as [`ManifestErrors`], each naming the file,
//! line and field, and nothing else. This crate reads only the files it is given: it keeps no
//! state, reads no clock and writes nothing.
//!
//! [`DeclaredNhi`]: keyward_model::DeclaredNhi
//! [`Person`]: keyward_model::Person

mod error;
mod fast;
mod load;
mod people;
mod position;
mod scalar;
mod tree;
mod yaml;

pub use error::{MAX_ERRORS, ManifestError, ManifestErrors};
pub use load::{LoadedFile, ManifestSet, SourceFile, load_paths, parse_str, stream_paths};
pub use people::{PEOPLE_COLUMNS, load_people_csv, parse_people_csv};
pub use position::{id_line, located};
pub use yaml::{API_VERSION, DOCUMENT_KIND};
