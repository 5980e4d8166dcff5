-- Findings are named by their NHI and check (see `Finding::id_for`): ids that begin with the
-- NHI id's digits make a check run, which walks the register in NHI id order, append to the id
-- index instead of inserting at random places in it. Exceptions follow their findings' new
-- ids (the reference cascades for this one update); ledger entries written before this
-- migration keep naming findings by their earlier ids, which were digests. (SQLite also
-- clusters the table by NHI; PostgreSQL tables are heaps.)
ALTER TABLE exceptions
    DROP CONSTRAINT exceptions_finding_id_fkey,
    ADD CONSTRAINT exceptions_finding_id_fkey FOREIGN KEY (finding_id) REFERENCES findings (id)
        ON UPDATE CASCADE;

UPDATE findings
SET id = 'fnd_' || (CASE WHEN substr(nhi_id, 1, 4) = 'nhi_' THEN substr(nhi_id, 5) ELSE nhi_id END)
    || '_' || check_id;

ALTER TABLE exceptions
    DROP CONSTRAINT exceptions_finding_id_fkey,
    ADD CONSTRAINT exceptions_finding_id_fkey FOREIGN KEY (finding_id) REFERENCES findings (id);
