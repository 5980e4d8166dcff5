-- Findings are stored in NHI order and named by their NHI and check. A check run walks the
-- register in NHI id order and reads each batch's stored findings by NHI range: clustering the
-- table on (nhi_id, check_id) reads them from consecutive pages instead of seeking into the
-- table from an index once per finding, and ids that begin with the NHI id's digits (see
-- `Finding::id_for`) make a first run's inserts append to the id index instead of landing at
-- random places in it. Exceptions follow their findings' new ids; ledger entries written
-- before this migration keep naming findings by their earlier ids, which were digests.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE findings_by_nhi (
    id TEXT NOT NULL UNIQUE,
    check_id TEXT NOT NULL,
    nhi_id TEXT NOT NULL REFERENCES nhis (id),
    state TEXT NOT NULL CHECK (state = 'open' OR state = 'resolved'),
    severity TEXT NOT NULL CHECK (severity = 'low' OR severity = 'medium' OR severity = 'high' OR severity = 'critical'),
    evidence TEXT NOT NULL,
    evidence_digest TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    reopened_at TEXT,
    reopen_count INTEGER NOT NULL CHECK (reopen_count >= 0),
    resolved_at TEXT,
    last_seen_at TEXT NOT NULL,
    PRIMARY KEY (nhi_id, check_id),
    CHECK ((state = 'resolved') = (resolved_at IS NOT NULL))
) STRICT, WITHOUT ROWID;

INSERT INTO findings_by_nhi
SELECT 'fnd_' || (CASE WHEN substr(nhi_id, 1, 4) = 'nhi_' THEN substr(nhi_id, 5) ELSE nhi_id END)
        || '_' || check_id,
    check_id, nhi_id, state, severity, evidence, evidence_digest, opened_at, reopened_at,
    reopen_count, resolved_at, last_seen_at
FROM findings ORDER BY nhi_id, check_id;

-- Old id to new, for the exceptions once the old table is gone. Dropping it leaves the
-- exceptions pointing at ids no finding has; updating them to the new ids settles that before
-- the transaction commits, where deferred foreign keys are checked.
CREATE TEMP TABLE finding_renames AS
SELECT o.id AS old_id, f.id AS new_id
FROM findings o JOIN findings_by_nhi f ON f.nhi_id = o.nhi_id AND f.check_id = o.check_id
WHERE o.id IN (SELECT finding_id FROM exceptions);

DROP TABLE findings;
ALTER TABLE findings_by_nhi RENAME TO findings;
CREATE INDEX findings_check_state ON findings (check_id, state);

UPDATE exceptions SET finding_id = (
    SELECT new_id FROM finding_renames WHERE old_id = exceptions.finding_id
);
DROP TABLE finding_renames;
