//! Keyward's tamper-evident ledger.
//!
//! Every state change in Keyward appends one [`Entry`] in the same transaction as the change.
//! Entries form a SHA-256 hash chain: each entry's hash covers its sequence number, time, actor,
//! action, subject, payload and the previous entry's hash ([`entry_hash`] documents the exact
//! bytes). Periodically, and on demand, the chain head is signed with the installation's Ed25519
//! key into a [`Checkpoint`], so truncating the tail or rewriting the whole chain is detected too.
//!
//! [`Verifier`] checks a ledger streamed in `seq` order and names the first bad entry.
//! [`bundle`] writes and reads an offline bundle (entries, checkpoints, public key) that verifies
//! with no database.

pub mod bundle;
mod chain;
mod checkpoint;
mod verify;

pub use chain::{Entry, GENESIS_HASH, NewEntry, entry_hash, format_at};
pub use checkpoint::{Checkpoint, LedgerKey, PublicKey, checkpoint_message};
pub use verify::{Problem, Verifier, VerifyReport};
