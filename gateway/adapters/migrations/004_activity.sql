-- Schema version 4: plan events that have no row of their own (a failed renewal, an
-- expiry, a cancellation), for the console's timeline and its renewals chart.

CREATE TABLE activity (
    id      INTEGER PRIMARY KEY,
    kind    TEXT NOT NULL,
    msisdn  TEXT NOT NULL,
    package TEXT,
    amount  INTEGER,
    status  TEXT,
    at      INTEGER NOT NULL
);
CREATE INDEX activity_by_msisdn ON activity (msisdn, at);
CREATE INDEX activity_by_kind ON activity (kind, at);
