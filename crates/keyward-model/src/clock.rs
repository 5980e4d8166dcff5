use chrono::{DateTime, Utc};

/// A source of the current time; every time-dependent decision takes one.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        // Microsecond precision: both stores keep microseconds, so a value read back equals the
        // value written and the ledger's hashed timestamps round-trip exactly.
        let now = Utc::now();
        truncate_to_micros(now)
    }
}

/// A clock stopped at one instant, for tests and reproducible runs.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        truncate_to_micros(self.0)
    }
}

fn truncate_to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_drops_sub_microsecond_precision() {
        let t = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.123456789Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            FixedClock(t).now().to_rfc3339(),
            "2026-01-02T03:04:05.123456+00:00"
        );
    }
}
