//! The process's allocator: jemalloc, with the run-time defaults `.cargo/config.toml` builds
//! into it.
//!
//! A check run allocates and frees tens of millions of small values (each NHI's subject, each
//! failure's evidence) on two threads, the batch reader filling what the judging thread frees;
//! glibc's allocator spent a third of that run in `malloc` and `free`, and jemalloc's
//! per-thread caches take most of that away (1,000,000 NHIs: 13.4 s → 8.0 s). Its default of
//! keeping freed pages for ten seconds would raise a secret scan's peak memory (scans free
//! large file buffers) by a tenth. Returning them a second after they are last used keeps a
//! scan's peak where it was (400 MB tree: 73-78 MB either way), while an apply, which frees
//! and refills a round's worth of memory every few hundred milliseconds, no longer hands
//! pages back and faults them in again: at 100 ms the SQLite writer spent a tenth of its time
//! in `madvise` and the TLB flushes after it (100,000 declarations: 5% faster, +10 MB peak).
//!
//! jemalloc also takes the C library's `malloc` and `free`, so SQLite allocates from it
//! instead of glibc: an apply spends a tenth of its SQLite thread allocating and freeing
//! (100,000 NHIs: 3-5% faster). `MALLOC_CONF` overrides the built-in options at run time.

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    #[test]
    fn the_allocator_returns_freed_pages_soon() {
        // The control interface hands the C string over with its terminator.
        let conf = tikv_jemalloc_ctl::config::malloc_conf::read().unwrap();
        let conf = conf.trim_end_matches('\0');
        for option in ["dirty_decay_ms:1000", "muzzy_decay_ms:0"] {
            assert!(
                conf.split(',').any(|o| o == option),
                "jemalloc was built with {conf:?}, without `{option}`: \
                 build from the repository so that .cargo/config.toml applies"
            );
        }
    }
}
