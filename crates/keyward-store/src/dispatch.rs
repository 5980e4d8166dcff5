//! Writes a query once and compiles it for both backends.
//!
//! `dispatch!(pool_enum, p, DB => body)` expands `body` once per backend with `p` bound to that
//! backend's pool (or transaction) and `DB` to its `sqlx` database type. The SQL text is shared;
//! `$1`-style placeholders work on both.

macro_rules! dispatch {
    ($value:expr, $p:ident, $db:ident => $body:expr) => {
        match $value {
            $crate::store::Backend::Sqlite($p) => {
                #[allow(dead_code, reason = "not every body names the database type")]
                type $db = sqlx::Sqlite;
                $body
            }
            $crate::store::Backend::Postgres($p) => {
                #[allow(dead_code, reason = "not every body names the database type")]
                type $db = sqlx::Postgres;
                $body
            }
        }
    };
}
