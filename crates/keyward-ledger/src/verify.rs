use std::collections::BTreeMap;
use std::fmt;

use crate::{Checkpoint, Entry, GENESIS_HASH, PublicKey};

/// The first thing found wrong with a ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// An entry's sequence number is not the next one: an entry was deleted, inserted or
    /// renumbered before it.
    Gap {
        /// The sequence number expected.
        expected: i64,
        /// The one found.
        found: i64,
    },
    /// An entry does not point at the previous entry's hash: entries were reordered, inserted
    /// or the previous one rewritten.
    BrokenLink {
        /// The entry whose `prev_hash` is wrong.
        seq: i64,
    },
    /// An entry's fields do not hash to its stored hash: it was edited.
    BadHash {
        /// The edited entry.
        seq: i64,
    },
    /// A checkpoint's signature does not verify with the installation's public key.
    BadSignature {
        /// The checkpoint's sequence number.
        seq: i64,
    },
    /// A checkpoint signed a different hash for an entry than the ledger holds now.
    CheckpointMismatch {
        /// The entry the checkpoint covers.
        seq: i64,
    },
    /// A checkpoint covers an entry the ledger no longer has: its tail was cut off.
    Truncated {
        /// The checkpoint's sequence number.
        checkpoint_seq: i64,
        /// The last entry present.
        last_seq: i64,
    },
}

impl Problem {
    /// The sequence number of the first bad entry.
    pub fn seq(&self) -> i64 {
        match *self {
            Problem::Gap { expected, .. } => expected,
            Problem::BrokenLink { seq }
            | Problem::BadHash { seq }
            | Problem::BadSignature { seq }
            | Problem::CheckpointMismatch { seq } => seq,
            Problem::Truncated { last_seq, .. } => last_seq + 1,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Gap { expected, found } => write!(
                f,
                "seq {expected}: missing; the next entry present is seq {found} (entries deleted or inserted)"
            ),
            Problem::BrokenLink { seq } => write!(
                f,
                "seq {seq}: prev_hash does not match the hash of seq {} (entries reordered, inserted or rewritten)",
                seq - 1
            ),
            Problem::BadHash { seq } => {
                write!(
                    f,
                    "seq {seq}: contents do not match its hash (entry edited)"
                )
            }
            Problem::BadSignature { seq } => write!(
                f,
                "seq {seq}: the checkpoint's signature does not verify with the installation's public key"
            ),
            Problem::CheckpointMismatch { seq } => write!(
                f,
                "seq {seq}: the signed checkpoint records a different hash (ledger rewritten)"
            ),
            Problem::Truncated {
                checkpoint_seq,
                last_seq,
            } => write!(
                f,
                "seq {}: missing; a signed checkpoint covers seq {checkpoint_seq} but the ledger ends at seq {last_seq} (tail deleted)",
                last_seq + 1
            ),
        }
    }
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries checked.
    pub entries: u64,
    /// Checkpoints checked.
    pub checkpoints: u64,
    /// The last entry's sequence number (0 for an empty ledger).
    pub head_seq: i64,
    /// The last entry's hash.
    pub head_hash: String,
    /// The first problem, if any.
    pub problem: Option<Problem>,
}

impl VerifyReport {
    /// Whether the ledger is intact.
    pub fn ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// Verifies a ledger fed entry by entry in `seq` order, without holding it in memory.
#[derive(Debug)]
pub struct Verifier {
    checkpoints: BTreeMap<i64, Checkpoint>,
    expected_seq: i64,
    prev_hash: String,
    entries: u64,
    problem: Option<Problem>,
}

impl Verifier {
    /// Starts a verification with the installation's public key and every checkpoint.
    pub fn new(public_key: PublicKey, checkpoints: Vec<Checkpoint>) -> Self {
        let mut problem = None;
        let mut map = BTreeMap::new();
        for cp in checkpoints {
            if problem.is_none() && !public_key.verifies(&cp) {
                problem = Some(Problem::BadSignature { seq: cp.seq });
            }
            map.insert(cp.seq, cp);
        }
        Self {
            checkpoints: map,
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
            entries: 0,
            problem,
        }
    }

    /// Checks the next entry. Returns `false` once a problem is found, so callers can stop.
    pub fn push(&mut self, e: &Entry) -> bool {
        if self.problem.is_some() {
            return false;
        }
        self.entries += 1;
        self.problem = if e.seq != self.expected_seq {
            Some(Problem::Gap {
                expected: self.expected_seq,
                found: e.seq,
            })
        } else if e.prev_hash != self.prev_hash {
            Some(Problem::BrokenLink { seq: e.seq })
        } else if e.recompute_hash() != e.hash {
            Some(Problem::BadHash { seq: e.seq })
        } else if self
            .checkpoints
            .get(&e.seq)
            .is_some_and(|cp| cp.head_hash != e.hash)
        {
            Some(Problem::CheckpointMismatch { seq: e.seq })
        } else {
            None
        };
        self.expected_seq = e.seq + 1;
        self.prev_hash.clone_from(&e.hash);
        self.problem.is_none()
    }

    /// Ends the verification.
    pub fn finish(mut self) -> VerifyReport {
        let last_seq = self.expected_seq - 1;
        if self.problem.is_none()
            && let Some((&cp_seq, _)) = self.checkpoints.range(last_seq + 1..).next()
        {
            self.problem = Some(Problem::Truncated {
                checkpoint_seq: cp_seq,
                last_seq,
            });
        }
        VerifyReport {
            entries: self.entries,
            checkpoints: self.checkpoints.len() as u64,
            head_seq: last_seq,
            head_hash: self.prev_hash,
            problem: self.problem,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LedgerKey, NewEntry};
    use chrono::Utc;

    fn ledger(n: i64) -> Vec<Entry> {
        let mut out: Vec<Entry> = Vec::new();
        for i in 0..n {
            let (seq, prev) = out
                .last()
                .map_or((0, GENESIS_HASH.to_owned()), |e| (e.seq, e.hash.clone()));
            out.push(Entry::chain(
                NewEntry {
                    actor: "t".into(),
                    action: "x".into(),
                    subject: format!("s{i}"),
                    payload: format!("{{\"i\":{i}}}"),
                },
                seq,
                &prev,
                Utc::now(),
            ));
        }
        out
    }

    fn run(key: &LedgerKey, entries: &[Entry], cps: Vec<Checkpoint>) -> VerifyReport {
        let mut v = Verifier::new(key.public_key(), cps);
        for e in entries {
            if !v.push(e) {
                break;
            }
        }
        v.finish()
    }

    #[test]
    fn intact_ledger_verifies() {
        let key = LedgerKey::from_seed([1; 32]);
        let l = ledger(5);
        let cp = key.checkpoint(5, &l[4].hash, Utc::now());
        let r = run(&key, &l, vec![cp]);
        assert!(r.ok(), "{:?}", r.problem);
        assert_eq!(r.entries, 5);
        assert_eq!(r.head_seq, 5);
    }

    #[test]
    fn edit_delete_insert_reorder_and_truncation_are_caught() {
        let key = LedgerKey::from_seed([1; 32]);
        let l = ledger(6);
        let cp = vec![key.checkpoint(6, &l[5].hash, Utc::now())];

        let mut edited = l.clone();
        edited[2].payload = "{\"i\":99}".into();
        assert_eq!(
            run(&key, &edited, cp.clone()).problem,
            Some(Problem::BadHash { seq: 3 })
        );

        let mut deleted = l.clone();
        deleted.remove(3);
        assert_eq!(
            run(&key, &deleted, cp.clone()).problem,
            Some(Problem::Gap {
                expected: 4,
                found: 5
            })
        );

        // Swapping two entries' contents but keeping seq order.
        let mut reordered = l.clone();
        let (a, b) = (reordered[1].clone(), reordered[2].clone());
        reordered[1] = Entry { seq: 2, ..b };
        reordered[2] = Entry { seq: 3, ..a };
        assert_eq!(
            run(&key, &reordered, cp.clone()).problem.map(|p| p.seq()),
            Some(2)
        );

        // An inserted, correctly re-hashed entry still breaks the signed head.
        let mut inserted = l[..3].to_vec();
        let extra = Entry::chain(
            NewEntry {
                actor: "m".into(),
                action: "x".into(),
                subject: "s".into(),
                payload: "{}".into(),
            },
            3,
            &l[2].hash,
            Utc::now(),
        );
        inserted.push(extra);
        let mut prev = inserted[3].clone();
        for e in &l[3..] {
            let n = Entry::chain(
                NewEntry {
                    actor: e.actor.clone(),
                    action: e.action.clone(),
                    subject: e.subject.clone(),
                    payload: e.payload.clone(),
                },
                prev.seq,
                &prev.hash,
                e.at,
            );
            inserted.push(n.clone());
            prev = n;
        }
        assert_eq!(
            run(&key, &inserted, cp.clone()).problem,
            Some(Problem::CheckpointMismatch { seq: 6 })
        );

        let truncated = l[..4].to_vec();
        assert_eq!(
            run(&key, &truncated, cp.clone()).problem,
            Some(Problem::Truncated {
                checkpoint_seq: 6,
                last_seq: 4
            })
        );
        assert_eq!(run(&key, &truncated, cp).problem.unwrap().seq(), 5);
    }

    #[test]
    fn forged_checkpoint_is_caught() {
        let key = LedgerKey::from_seed([1; 32]);
        let forger = LedgerKey::from_seed([2; 32]);
        let l = ledger(2);
        let cp = forger.checkpoint(2, &l[1].hash, Utc::now());
        assert_eq!(
            run(&key, &l, vec![cp]).problem,
            Some(Problem::BadSignature { seq: 2 })
        );
    }
}
