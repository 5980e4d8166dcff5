//! A progress line for long scans, drawn only when standard error is a terminal.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use keyward_scan::Progress;

/// A running progress line; dropping it clears the line.
pub struct Bar {
    done: Arc<AtomicBool>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

impl Bar {
    /// Starts drawing `progress` when standard error is a terminal; otherwise draws nothing.
    pub fn start(progress: Arc<Progress>) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        if !std::io::stderr().is_terminal() {
            return Self { done, ticker: None };
        }
        let bar = indicatif::ProgressBar::new_spinner();
        let stop = done.clone();
        let ticker = std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let files = progress.files.load(Ordering::Relaxed);
                let total = progress.blobs_total.load(Ordering::Relaxed);
                let of = if total > 0 {
                    format!(" of {total} blobs")
                } else {
                    " files".to_owned()
                };
                #[expect(clippy::cast_precision_loss, reason = "a display figure")]
                let mb = progress.bytes.load(Ordering::Relaxed) as f64 / 1e6;
                bar.set_message(format!(
                    "scanning: {files}{of}, {mb:.1} MB, {} findings",
                    progress.findings.load(Ordering::Relaxed)
                ));
                bar.tick();
                std::thread::sleep(Duration::from_millis(120));
            }
            bar.finish_and_clear();
        });
        Self {
            done,
            ticker: Some(ticker),
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            // A ticker that panicked has nothing left to clear.
            let _ = t.join();
        }
    }
}
