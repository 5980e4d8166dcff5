-- What each source says about an NHI beyond the register's fields (trust policies, admin
-- grants, key sizes, consumers, addresses seen), and when a complete run of that source over
-- the same scope (the observation's locator) stopped seeing it. Identities no longer seen
-- are marked, never deleted.
ALTER TABLE observations ADD COLUMN facts TEXT NOT NULL DEFAULT '{}';
ALTER TABLE observations ADD COLUMN gone_at TEXT;
CREATE INDEX observations_source_locator ON observations (source, locator);
