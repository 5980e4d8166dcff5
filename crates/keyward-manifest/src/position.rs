//! Where in a YAML data file a problem is, for data files other than declarations (detection
//! rules, check files) read with `serde-saphyr`.

/// Splits a parser message into the line it names and the rest, lower-cased first letter.
pub fn located(msg: &str) -> (usize, String) {
    let first = msg.lines().next().unwrap_or(msg).trim();
    let line = first
        .split("line ")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    // `error: line 11 column 5: unknown field …` → `unknown field …`
    let rest = first.trim_start_matches("error: ");
    let rest = match rest.strip_prefix("line ") {
        Some(r) => r.split_once(": ").map_or(rest, |(_, tail)| tail),
        None => rest,
    };
    let mut reason = rest.to_owned();
    if let Some(c) = reason.get(..1) {
        let lower = c.to_lowercase();
        reason.replace_range(..1, &lower);
    }
    (line, reason)
}

/// The line that declares the entry `id: <id>` (a rule, a check), for messages about the entry
/// as a whole (0 if not found).
pub fn id_line(text: &str, id: &str) -> usize {
    text.lines()
        .position(|l| {
            let t = l.trim_start().trim_start_matches("- ").trim_start();
            t.strip_prefix("id:")
                .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\'') == id)
                .unwrap_or(false)
        })
        .map_or(0, |i| i + 1)
}
