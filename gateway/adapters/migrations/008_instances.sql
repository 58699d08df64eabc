-- Schema version 8: several gateways on one database (docs/scale-out.md). An outbox row
-- belongs to the instance that committed it (its id; '' for a single gateway), which
-- publishes it; the rows of an instance that died are adopted by another.
ALTER TABLE outbox ADD COLUMN owner TEXT NOT NULL DEFAULT '';
