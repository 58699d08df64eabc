-- Schema version 6: the SMPP server (docs/smpp.md). Deliveries waiting for an
-- application's session (its MOs and its delivery receipts), kept until a deliver_sm_resp
-- acknowledges them, and the messages accepted by submit_sm (query_sm, receipts).

CREATE TABLE smpp_queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    account TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('mo', 'receipt')),
    source TEXT NOT NULL,
    destination TEXT NOT NULL,
    text TEXT NOT NULL,
    receipted_id TEXT,
    message_state INTEGER,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    delivered_at INTEGER
);
CREATE INDEX smpp_queue_pending ON smpp_queue (account, seq) WHERE delivered_at IS NULL;

CREATE TABLE smpp_messages (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    source TEXT NOT NULL,
    destination TEXT NOT NULL,
    state TEXT NOT NULL,
    error INTEGER NOT NULL DEFAULT 0,
    submitted_at INTEGER NOT NULL,
    done_at INTEGER
);
