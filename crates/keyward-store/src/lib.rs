//! Keyward's store: the register of NHIs, credentials, people and runs, and the ledger.
//!
//! One behaviour on two backends: a SQLite file by default (zero set-up) and PostgreSQL for team
//! deployments. Each backend has its own embedded migrations; queries are written once and
//! compiled for both (see the `dispatch!` macro), checked at run time so building needs no
//! database.
//!
//! Every change goes through a [`WriteTx`]: it takes the ledger head lock first, so appends are
//! serialised across processes and servers, and it refuses to commit changes that appended no
//! ledger entry. The ledger table itself refuses `UPDATE` and `DELETE` in the database.

#[macro_use]
mod dispatch;
#[macro_use]
mod rows;
#[macro_use]
mod filter;
mod batch;
mod bulk;
mod error;
mod findings;
mod flush;
mod list;
mod load;
mod location;
mod pg_copy;
mod read;
mod sqlite_read;
mod store;
mod write;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::StoreError;
pub use filter::NhiFilter;
pub use findings::{CheckBatch, CheckBatches, FindingFilter, FindingNhi, PlaceRow, StoredFinding};
pub use flush::BackgroundFlush;
pub use location::Location;
pub use read::{Installation, PostureCounts, RunRecord};
pub use store::Store;
pub use write::{Committed, WriteTx};
