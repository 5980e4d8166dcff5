-- Where a credential's value was seen: every file and commit a secret scan found it in. One
-- credential (one fingerprint) has many locations, which is how reuse across repositories and
-- environments shows.
CREATE TABLE credential_locations (
    credential_id TEXT NOT NULL REFERENCES credentials (id),
    location TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('file', 'git')),
    repository TEXT NOT NULL,
    path TEXT NOT NULL,
    line INTEGER NOT NULL CHECK (line > 0),
    col INTEGER NOT NULL CHECK (col > 0),
    commit_id TEXT,
    author TEXT,
    committed_at TIMESTAMPTZ,
    rule_id TEXT NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (credential_id, location),
    CHECK ((source = 'git') = (commit_id IS NOT NULL))
);
