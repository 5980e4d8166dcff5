-- Per NHI with stored findings, a digest of its open findings as the last check run left them
-- (over the checks that run evaluated). A run compares it with what it finds now and reads an
-- NHI's findings only when the two differ: an unchanged register is judged without reading
-- its millions of findings. Every NHI with findings has a row; the empty digest written here
-- matches nothing, so the first run after this migration reads them all once.
CREATE TABLE finding_sets (
    nhi_id TEXT PRIMARY KEY REFERENCES nhis (id),
    digest TEXT NOT NULL
);

INSERT INTO finding_sets SELECT DISTINCT nhi_id, '' FROM findings ORDER BY nhi_id;
