//! Positioned JSON parsing, shared with every connector (a seed lets an object's type depend
//! on telling keys that may come after the ones it shares), and where a text's content starts.

pub(crate) use keyward_connect::{parse_json_at as parse_at, parse_json_seed as parse_seed};

/// The first non-whitespace byte of a text, with its 1-based line and column.
pub(crate) fn content_start(bytes: &[u8]) -> Option<(usize, usize, u8)> {
    let i = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let (line, column) = keyward_connect::position_of(bytes, i);
    Some((line, column, bytes[i]))
}
