//! Background flushing of a SQLite store's write-ahead log during a large write.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// While it lives, a thread of its own asks the system every `EVERY` to write the store's
/// write-ahead log to disk (`fdatasync`).
///
/// SQLite syncs the log itself when it checkpoints, and only then: a commit of a 200 MB
/// transaction waited ~130 ms for it at once, while the disk sat idle during the writes
/// before. Flushing as the log grows moves that wait off the writer; what SQLite syncs, and
/// when, is unchanged.
///
/// The database file itself is never opened here: SQLite holds POSIX advisory locks on it,
/// and closing any descriptor of a file drops every such lock the process holds on it. The
/// log carries no locks (those are on the file and the `-shm` index).
pub struct BackgroundFlush {
    stop: Arc<AtomicBool>,
    flushed: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

/// Often enough to follow a checkpoint, which writes a 200 MB file in ~150 ms; a flush with
/// nothing to write costs a fraction of a millisecond.
const EVERY: Duration = Duration::from_millis(25);

impl BackgroundFlush {
    pub(crate) fn start(db: &std::path::Path) -> Self {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        let wal = PathBuf::from(wal);
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let flushed = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&flushed);
        let thread = std::thread::Builder::new()
            .name("keyward-flush".into())
            .spawn(move || {
                while !stopping.load(Ordering::Relaxed) {
                    std::thread::park_timeout(EVERY);
                    // A log not made yet, or gone, has nothing to flush.
                    if let Ok(file) = std::fs::File::open(&wal)
                        && file.sync_data().is_ok()
                    {
                        counted.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
            .ok();
        Self {
            stop,
            flushed,
            thread,
        }
    }

    /// How many times the log was flushed so far.
    pub fn flushes(&self) -> u64 {
        self.flushed.load(Ordering::Relaxed)
    }
}

impl Drop for BackgroundFlush {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    fn wait_for(flush: &BackgroundFlush, at_least: u64) -> bool {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if flush.flushes() >= at_least {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    #[test]
    fn flushes_the_log_never_the_database_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("k.db");
        std::fs::write(&db, b"db").unwrap();
        let flush = BackgroundFlush::start(&db);
        std::thread::sleep(EVERY * 3);
        assert_eq!(flush.flushes(), 0, "the database file is not touched");
        std::fs::write(dir.path().join("k.db-wal"), b"log").unwrap();
        assert!(wait_for(&flush, 2), "the log is flushed once it exists");
        let counter = Arc::clone(&flush.flushed);
        drop(flush); // joins the thread
        let after = counter.load(Ordering::Relaxed);
        std::thread::sleep(EVERY * 3);
        assert_eq!(
            counter.load(Ordering::Relaxed),
            after,
            "stopped when dropped"
        );
    }

    #[test]
    fn missing_files_are_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let flush = BackgroundFlush::start(&dir.path().join("absent.db"));
        std::thread::sleep(EVERY * 3);
        assert_eq!(flush.flushes(), 0);
    }
}
