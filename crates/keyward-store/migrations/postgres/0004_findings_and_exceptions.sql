-- Posture findings: one per check and NHI, with its lifecycle. A finding's row changes only
-- when it opens, resolves, reopens, or its evidence or severity changes, so a run that finds
-- what the last one found writes nothing but its run record; while open, a finding was seen
-- by every evaluation of its check since it opened, which `check_state` dates. A run compares
-- evidence by its digest, so it never decodes the evidence of findings that did not change.
CREATE TABLE findings (
    id TEXT PRIMARY KEY,
    check_id TEXT NOT NULL,
    nhi_id TEXT NOT NULL REFERENCES nhis (id),
    state TEXT NOT NULL CHECK (state = 'open' OR state = 'resolved'),
    severity TEXT NOT NULL CHECK (severity = 'low' OR severity = 'medium' OR severity = 'high' OR severity = 'critical'),
    evidence JSONB NOT NULL,
    evidence_digest TEXT NOT NULL,
    opened_at TIMESTAMPTZ NOT NULL,
    reopened_at TIMESTAMPTZ,
    reopen_count BIGINT NOT NULL CHECK (reopen_count >= 0),
    resolved_at TIMESTAMPTZ,
    last_seen_at TIMESTAMPTZ NOT NULL,
    UNIQUE (nhi_id, check_id),
    CHECK ((state = 'resolved') = (resolved_at IS NOT NULL))
);
CREATE INDEX findings_check_state ON findings (check_id, state);

-- When each check was last evaluated over the whole register, and by which run.
CREATE TABLE check_state (
    check_id TEXT PRIMARY KEY,
    last_run_id TEXT NOT NULL,
    last_run_at TIMESTAMPTZ NOT NULL
);

-- Time-bound risk acceptances. The approver is never the requester, and every exception
-- ends: an approved one suppresses its finding until `expires_at`, then expires and the
-- finding reopens.
CREATE TABLE exceptions (
    id TEXT PRIMARY KEY,
    finding_id TEXT NOT NULL REFERENCES findings (id),
    state TEXT NOT NULL CHECK (state = 'requested' OR state = 'approved' OR state = 'rejected' OR state = 'expired'),
    reason TEXT NOT NULL CHECK (reason <> ''),
    compensating_controls TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    decided_by TEXT,
    decided_at TIMESTAMPTZ,
    decision_note TEXT,
    CHECK (decided_by IS NULL OR decided_by <> requested_by),
    CHECK ((state = 'requested') = (decided_by IS NULL) OR state = 'expired')
);
CREATE INDEX exceptions_finding ON exceptions (finding_id);
CREATE INDEX exceptions_state_expiry ON exceptions (state, expires_at);
