-- Keyward register and ledger schema.
-- Enumerated columns carry CHECK constraints with the model's stable names; a test inserts every
-- model value so the two cannot drift apart.

CREATE TABLE installation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    created_at TIMESTAMPTZ NOT NULL,
    ledger_public_key TEXT NOT NULL,
    fingerprint_key_id TEXT NOT NULL,
    checkpoint_every BIGINT NOT NULL CHECK (checkpoint_every > 0)
);

CREATE TABLE people (
    email TEXT PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL,
    team TEXT,
    manager_email TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'departed')),
    departed_on TEXT,
    updated_at TIMESTAMPTZ NOT NULL,
    CHECK ((status = 'departed') = (departed_on IS NOT NULL))
);
CREATE INDEX people_team ON people (team);

-- Names sort by bytes, as in SQLite, so sorting by name gives the same order on both.
CREATE TABLE nhis (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('service_account', 'iam_user', 'iam_role', 'access_key', 'api_key', 'token', 'oauth_app', 'certificate', 'ssh_key', 'k8s_service_account', 'ci_secret', 'workload_identity', 'bot', 'other')),
    provider TEXT NOT NULL,
    external_id TEXT,
    name TEXT COLLATE "C" NOT NULL,
    declaration TEXT UNIQUE,
    origin TEXT NOT NULL CHECK (origin IN ('declared', 'discovered')),
    environment TEXT NOT NULL CHECK (environment IN ('production', 'staging', 'development', 'test', 'unknown')),
    owner TEXT,
    backup_owner TEXT,
    purpose TEXT,
    privilege_ceiling JSONB NOT NULL,
    observed_permissions JSONB NOT NULL,
    created_at TIMESTAMPTZ,
    expires_at TIMESTAMPTZ,
    last_rotated_at TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    last_used_state TEXT NOT NULL CHECK (last_used_state IN ('unknown', 'never', 'used')),
    last_reviewed_at TIMESTAMPTZ,
    review_every_days INTEGER CHECK (review_every_days > 0),
    next_review_due TIMESTAMPTZ,
    status TEXT NOT NULL CHECK (status IN ('active', 'disabled', 'revoked', 'retired')),
    supplier TEXT,
    tags JSONB NOT NULL,
    registered_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (provider, external_id),
    CHECK ((last_used_state = 'used') = (last_used_at IS NOT NULL))
);
CREATE INDEX nhis_owner ON nhis (owner);
CREATE INDEX nhis_expires_at ON nhis (expires_at);
CREATE INDEX nhis_next_review_due ON nhis (next_review_due);

CREATE TABLE credentials (
    id TEXT PRIMARY KEY,
    nhi_id TEXT NOT NULL REFERENCES nhis (id),
    kind TEXT NOT NULL CHECK (kind IN ('access_key', 'api_key', 'token', 'password', 'client_secret', 'private_key', 'certificate', 'ssh_key', 'connection_string', 'webhook', 'other')),
    external_id TEXT,
    fingerprint TEXT UNIQUE,
    preview TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'revoked')),
    created_at TIMESTAMPTZ,
    expires_at TIMESTAMPTZ,
    last_rotated_at TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    last_used_state TEXT NOT NULL CHECK (last_used_state IN ('unknown', 'never', 'used')),
    CHECK (external_id IS NOT NULL OR fingerprint IS NOT NULL)
);
CREATE INDEX credentials_nhi ON credentials (nhi_id);
CREATE INDEX credentials_external_id ON credentials (external_id);

CREATE TABLE observations (
    nhi_id TEXT NOT NULL REFERENCES nhis (id),
    source TEXT NOT NULL,
    connector TEXT NOT NULL,
    connector_version TEXT NOT NULL,
    locator TEXT NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (nhi_id, source)
);

-- One row per run that changed the register (an apply, an import, a discovery): what ran, on
-- which inputs, with what result. Provenance for every population.
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    connector TEXT NOT NULL,
    connector_version TEXT NOT NULL,
    actor TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    inputs JSONB NOT NULL,
    parameters JSONB NOT NULL,
    counts JSONB NOT NULL
);
CREATE INDEX runs_started_at ON runs (started_at);

CREATE TABLE ledger (
    seq BIGINT PRIMARY KEY CHECK (seq > 0),
    at TIMESTAMPTZ NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX ledger_subject ON ledger (subject, seq);

-- The chain head, so appends serialise on one row across processes and servers. Verification
-- never trusts it; it recomputes the chain from `ledger`.
CREATE TABLE ledger_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    checkpoint_seq BIGINT NOT NULL,
    checkpoint_at TIMESTAMPTZ
);
INSERT INTO ledger_head (id, seq, hash, checkpoint_seq, checkpoint_at)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0, NULL);

CREATE TABLE ledger_checkpoints (
    seq BIGINT PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    head_hash TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature TEXT NOT NULL
);

CREATE FUNCTION keyward_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER ledger_no_update_delete BEFORE UPDATE OR DELETE ON ledger
    FOR EACH ROW EXECUTE FUNCTION keyward_append_only();
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger
    FOR EACH STATEMENT EXECUTE FUNCTION keyward_append_only();
CREATE TRIGGER checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON ledger_checkpoints
    FOR EACH ROW EXECUTE FUNCTION keyward_append_only();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON ledger_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION keyward_append_only();
