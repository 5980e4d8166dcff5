//! Instants written as JSON text without the formatting machinery.
//!
//! The same text chrono's own `Serialize` writes for a `DateTime<Utc>` (RFC 3339 with `Z`, the
//! fraction in 0, 3, 6 or 9 digits as the value needs, a leap second as `:60`), written into a
//! buffer byte by byte: chrono goes through `fmt::Display`, which the JSON writer receives a
//! character at a time, and a million listed NHIs carry several million instants. The stores'
//! text form (`+00:00` for the zone, as `to_rfc3339_opts(AutoSi, false)` writes it) comes from
//! the same writer. Years outside 0000–9999 fall back to chrono.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serializer;

/// The longest text written here: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+00:00`.
const MAX: usize = 35;

/// `t` as RFC 3339 text in `buf`, the zone written as `zone`; its length, or `None` for a year
/// outside 0000–9999.
fn write(t: &DateTime<Utc>, zone: &[u8], buf: &mut [u8; MAX]) -> Option<usize> {
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let mut sec = t.second();
    let mut nano = t.nanosecond();
    if nano >= 1_000_000_000 {
        sec += 1;
        nano -= 1_000_000_000;
    }
    let mut at = 0;
    put(buf, &mut at, year, 4);
    let fields = [t.month(), t.day(), t.hour(), t.minute(), sec];
    for (value, sep) in fields.into_iter().zip([b'-', b'-', b'T', b':', b':']) {
        buf[at] = sep;
        at += 1;
        put(buf, &mut at, value, 2);
    }
    if nano != 0 {
        buf[at] = b'.';
        at += 1;
        if nano.is_multiple_of(1_000_000) {
            put(buf, &mut at, nano / 1_000_000, 3);
        } else if nano.is_multiple_of(1_000) {
            put(buf, &mut at, nano / 1_000, 6);
        } else {
            put(buf, &mut at, nano, 9);
        }
    }
    buf[at..at + zone.len()].copy_from_slice(zone);
    Some(at + zone.len())
}

/// `value`'s last `width` decimal digits at `buf[*at..]`.
fn put(buf: &mut [u8; MAX], at: &mut usize, value: u32, width: usize) {
    let mut rest = value;
    for digit in buf[*at..*at + width].iter_mut().rev() {
        // A decimal digit, below 10.
        *digit = b'0' + u8::try_from(rest % 10).unwrap_or(0);
        rest /= 10;
    }
    *at += width;
}

/// Serialises an instant as chrono does (`#[serde(serialize_with = …)]`).
pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0; MAX];
    match write(t, b"Z", &mut buf).and_then(|n| std::str::from_utf8(&buf[..n]).ok()) {
        Some(text) => s.serialize_str(text),
        None => serde::Serialize::serialize(t, s),
    }
}

/// `t` as the stores keep it: what `to_rfc3339_opts(SecondsFormat::AutoSi, false)` writes.
pub fn stored_text(t: &DateTime<Utc>) -> String {
    let mut buf = [0; MAX];
    match write(t, b"+00:00", &mut buf).and_then(|n| std::str::from_utf8(&buf[..n]).ok()) {
        Some(text) => text.to_owned(),
        None => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false),
    }
}

/// Serialises an optional instant as chrono does: `null` when absent.
pub fn serialize_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => serialize(t, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;

    fn ours(t: &DateTime<Utc>) -> String {
        serialize(t, serde_json::value::Serializer)
            .map(|v| v.to_string())
            .unwrap_or_default()
    }

    fn chronos(t: &DateTime<Utc>) -> String {
        serde_json::to_string(t).unwrap_or_default()
    }

    #[test]
    fn writes_what_chrono_writes_for_every_fraction_and_range() {
        let base = NaiveDate::from_ymd_opt(2026, 12, 4)
            .and_then(|d| d.and_hms_opt(18, 57, 28))
            .map(|n| Utc.from_utc_datetime(&n));
        let Some(base) = base else {
            panic!("a valid instant");
        };
        let mut cases = vec![base];
        for nanos in [
            1,
            7,
            1_000,
            287_579_000,
            287_000_000,
            999_999_999,
            100_000_000,
        ] {
            cases.push(base + chrono::Duration::nanoseconds(nanos));
        }
        // Leap second, and the edges of the years written here and beyond them.
        cases.extend(
            NaiveDate::from_ymd_opt(2016, 12, 31)
                .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
                .map(|n| Utc.from_utc_datetime(&n)),
        );
        for (y, m, d) in [
            (0, 1, 1),
            (9999, 12, 31),
            (-1, 6, 15),
            (10000, 1, 1),
            (1970, 1, 1),
        ] {
            cases.extend(
                NaiveDate::from_ymd_opt(y, m, d)
                    .and_then(|d| d.and_hms_micro_opt(0, 0, 0, 5))
                    .map(|n| Utc.from_utc_datetime(&n)),
            );
        }
        // A spread of instants, seconds and nanoseconds, over four centuries.
        let mut x: i64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let secs = x.rem_euclid(12_600_000_000) - 2_200_000_000;
            let nanos = u32::try_from((x >> 20).rem_euclid(1_000_000_000)).unwrap_or(0);
            let nanos = match x.rem_euclid(4) {
                0 => 0,
                1 => nanos / 1_000_000 * 1_000_000,
                2 => nanos / 1_000 * 1_000,
                _ => nanos,
            };
            cases.extend(DateTime::from_timestamp(secs, nanos));
        }
        assert!(cases.len() > 20_000);
        for t in &cases {
            assert_eq!(ours(t), chronos(t), "{t:?}");
            assert_eq!(
                stored_text(t),
                t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false),
                "{t:?}"
            );
        }
        let opt = |t: Option<DateTime<Utc>>| {
            serialize_opt(&t, serde_json::value::Serializer).map(|v| v.to_string())
        };
        assert_eq!(opt(None).ok().as_deref(), Some("null"));
        assert_eq!(opt(Some(base)).ok(), Some(chronos(&base)));
    }
}
