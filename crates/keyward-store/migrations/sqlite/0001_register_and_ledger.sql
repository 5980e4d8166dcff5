-- Keyward register and ledger schema.
-- Enumerated columns carry CHECK constraints with the model's stable names; a test inserts every
-- model value so the two cannot drift apart. They are written as `=` chains rather than `IN`
-- lists: SQLite builds a temporary index for a constant `IN` list each time it checks a row,
-- which tripled the cost of a bulk insert.

CREATE TABLE installation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    created_at TEXT NOT NULL,
    ledger_public_key TEXT NOT NULL,
    fingerprint_key_id TEXT NOT NULL,
    checkpoint_every INTEGER NOT NULL CHECK (checkpoint_every > 0)
) STRICT;

CREATE TABLE people (
    email TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    team TEXT,
    manager_email TEXT,
    status TEXT NOT NULL CHECK (status = 'active' OR status = 'departed'),
    departed_on TEXT,
    updated_at TEXT NOT NULL,
    CHECK ((status = 'departed') = (departed_on IS NOT NULL))
) STRICT;
CREATE INDEX people_team ON people (team);

CREATE TABLE nhis (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind = 'service_account' OR kind = 'iam_user' OR kind = 'iam_role' OR kind = 'access_key' OR kind = 'api_key' OR kind = 'token' OR kind = 'oauth_app' OR kind = 'certificate' OR kind = 'ssh_key' OR kind = 'k8s_service_account' OR kind = 'ci_secret' OR kind = 'workload_identity' OR kind = 'bot' OR kind = 'other'),
    provider TEXT NOT NULL,
    external_id TEXT,
    name TEXT NOT NULL,
    declaration TEXT UNIQUE,
    origin TEXT NOT NULL CHECK (origin = 'declared' OR origin = 'discovered'),
    environment TEXT NOT NULL CHECK (environment = 'production' OR environment = 'staging' OR environment = 'development' OR environment = 'test' OR environment = 'unknown'),
    owner TEXT,
    backup_owner TEXT,
    purpose TEXT,
    privilege_ceiling TEXT NOT NULL,
    observed_permissions TEXT NOT NULL,
    created_at TEXT,
    expires_at TEXT,
    last_rotated_at TEXT,
    last_used_at TEXT,
    last_used_state TEXT NOT NULL CHECK (last_used_state = 'unknown' OR last_used_state = 'never' OR last_used_state = 'used'),
    last_reviewed_at TEXT,
    review_every_days INTEGER CHECK (review_every_days > 0),
    next_review_due TEXT,
    status TEXT NOT NULL CHECK (status = 'active' OR status = 'disabled' OR status = 'revoked' OR status = 'retired'),
    supplier TEXT,
    tags TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (provider, external_id),
    CHECK ((last_used_state = 'used') = (last_used_at IS NOT NULL))
) STRICT;
CREATE INDEX nhis_owner ON nhis (owner);
CREATE INDEX nhis_expires_at ON nhis (expires_at);
CREATE INDEX nhis_next_review_due ON nhis (next_review_due);

CREATE TABLE credentials (
    id TEXT PRIMARY KEY,
    nhi_id TEXT NOT NULL REFERENCES nhis (id),
    kind TEXT NOT NULL CHECK (kind = 'access_key' OR kind = 'api_key' OR kind = 'token' OR kind = 'password' OR kind = 'client_secret' OR kind = 'private_key' OR kind = 'certificate' OR kind = 'ssh_key' OR kind = 'connection_string' OR kind = 'webhook' OR kind = 'other'),
    external_id TEXT,
    fingerprint TEXT UNIQUE,
    preview TEXT,
    status TEXT NOT NULL CHECK (status = 'active' OR status = 'inactive' OR status = 'revoked'),
    created_at TEXT,
    expires_at TEXT,
    last_rotated_at TEXT,
    last_used_at TEXT,
    last_used_state TEXT NOT NULL CHECK (last_used_state = 'unknown' OR last_used_state = 'never' OR last_used_state = 'used'),
    CHECK (external_id IS NOT NULL OR fingerprint IS NOT NULL)
) STRICT;
CREATE INDEX credentials_nhi ON credentials (nhi_id);
CREATE INDEX credentials_external_id ON credentials (external_id);

CREATE TABLE observations (
    nhi_id TEXT NOT NULL REFERENCES nhis (id),
    source TEXT NOT NULL,
    connector TEXT NOT NULL,
    connector_version TEXT NOT NULL,
    locator TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    PRIMARY KEY (nhi_id, source)
) STRICT;

-- One row per run that changed the register (an apply, an import, a discovery): what ran, on
-- which inputs, with what result. Provenance for every population.
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    connector TEXT NOT NULL,
    connector_version TEXT NOT NULL,
    actor TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    inputs TEXT NOT NULL,
    parameters TEXT NOT NULL,
    counts TEXT NOT NULL
) STRICT;
CREATE INDEX runs_started_at ON runs (started_at);

CREATE TABLE ledger (
    seq INTEGER PRIMARY KEY CHECK (seq > 0),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
) STRICT;
CREATE INDEX ledger_subject ON ledger (subject, seq);

-- The chain head, so appends serialise on one row across processes and servers. Verification
-- never trusts it; it recomputes the chain from `ledger`.
CREATE TABLE ledger_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    checkpoint_seq INTEGER NOT NULL,
    checkpoint_at TEXT
) STRICT;
INSERT INTO ledger_head (id, seq, hash, checkpoint_seq, checkpoint_at)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0, NULL);

CREATE TABLE ledger_checkpoints (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    head_hash TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature TEXT NOT NULL
) STRICT;

CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only: UPDATE refused');
END;

CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only: DELETE refused');
END;

CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON ledger_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'ledger checkpoints are append-only: UPDATE refused');
END;

CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON ledger_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'ledger checkpoints are append-only: DELETE refused');
END;
