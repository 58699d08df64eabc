-- Schema version 9: outcomes on demand (docs/smpp.md). Each subscriber's handset state
-- (PUT /api/handsets/{msisdn}), and what a message accepted by submit_sm still waits for:
-- the instant its outcome is due, the end of its validity period, the outcome drawn from
-- the seeded percentages, whether a receipt was asked for, and the text's first
-- characters for the receipt. (Numbers 7 and 8 belong to other changes.)

CREATE TABLE handsets (
    msisdn TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('on', 'off', 'absent', 'memory_full', 'barred')),
    updated_at INTEGER NOT NULL
);

ALTER TABLE smpp_messages ADD COLUMN registered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE smpp_messages ADD COLUMN excerpt TEXT NOT NULL DEFAULT '';
ALTER TABLE smpp_messages ADD COLUMN drawn TEXT NOT NULL DEFAULT 'DELIVRD';
ALTER TABLE smpp_messages ADD COLUMN due_at INTEGER;
ALTER TABLE smpp_messages ADD COLUMN expires_at INTEGER;
CREATE INDEX smpp_messages_due ON smpp_messages (due_at) WHERE state = 'ENROUTE';
CREATE INDEX smpp_messages_held ON smpp_messages (destination) WHERE state = 'ENROUTE';
