-- Schema version 2: the email channel. Subscribers get an address and an account
-- status; outbound mail is recorded (and delivered from) the mail table; support
-- tickets with their history and the mails they received.

ALTER TABLE subscribers ADD COLUMN email TEXT;
ALTER TABLE subscribers ADD COLUMN status TEXT NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'closed'));
ALTER TABLE subscribers ADD COLUMN closed_at INTEGER;
-- an address names one open account (a closed one keeps its address for the record)
CREATE UNIQUE INDEX subscribers_by_email ON subscribers (email)
    WHERE email IS NOT NULL AND status = 'active';

CREATE TABLE mail (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    sender          TEXT NOT NULL,
    sender_name     TEXT NOT NULL,
    recipients      TEXT NOT NULL,  -- JSON array of addresses
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    at              INTEGER NOT NULL,
    msisdn          TEXT,
    ticket_id       INTEGER,
    in_reply_to     TEXT,
    refs            TEXT NOT NULL DEFAULT '[]',  -- JSON array of Message-IDs
    status          TEXT NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- wall-clock microseconds: delivery retries follow real time, not the virtual clock
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    sent_at         INTEGER,
    read            INTEGER NOT NULL DEFAULT 0,
    -- hidden from the mailbox API by DELETE /api/v1/messages (still delivered if queued)
    deleted         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX mail_queued ON mail (next_attempt_at, seq) WHERE status = 'queued';
CREATE INDEX mail_by_ticket ON mail (ticket_id) WHERE ticket_id IS NOT NULL;

CREATE TABLE tickets (
    id             INTEGER PRIMARY KEY,
    source         TEXT NOT NULL CHECK (source IN ('email', 'portal')),
    kind           TEXT NOT NULL CHECK (kind IN ('account_closure', 'general')),
    status         TEXT NOT NULL CHECK (status IN ('open', 'verifying', 'closed')),
    requester      TEXT,
    msisdn         TEXT REFERENCES subscribers (msisdn),
    product        TEXT NOT NULL,
    category       TEXT NOT NULL,
    title          TEXT NOT NULL,
    content        TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    otp_hash       TEXT,
    otp_expires_at INTEGER,
    otp_attempts   INTEGER NOT NULL DEFAULT 0,
    codes_sent     INTEGER NOT NULL DEFAULT 0,
    resolution     TEXT,
    closed_at      INTEGER
);

CREATE TABLE ticket_events (
    id        INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    at        INTEGER NOT NULL,
    status    TEXT NOT NULL,
    note      TEXT NOT NULL
);
CREATE INDEX ticket_events_by_ticket ON ticket_events (ticket_id, id);

-- mails received by the support mailbox, by Message-ID: a resent mail is not a new request
CREATE TABLE support_inbox (
    message_id TEXT PRIMARY KEY,
    ticket_id  INTEGER NOT NULL REFERENCES tickets (id),
    sender     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    at         INTEGER NOT NULL
) WITHOUT ROWID;
