//! Rebuilds the crate when a migration is added or removed: `sqlx::migrate!` embeds the files
//! it finds, but on stable Rust the compiler is told only of the files it read, not of the
//! directories it listed.
fn main() {
    println!("cargo:rerun-if-changed=migrations/sqlite");
    println!("cargo:rerun-if-changed=migrations/postgres");
}
