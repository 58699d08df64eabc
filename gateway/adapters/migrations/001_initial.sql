-- Schema version 1: subscribers, subscriptions, charges, invoices, ledger, inbound, outbox.
-- Instants are INTEGER microseconds since the Unix epoch (UTC).

CREATE TABLE subscribers (
    msisdn      TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('prepaid', 'postpaid')),
    balance     INTEGER NOT NULL CHECK (balance >= 0),
    language    TEXT,
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE subscriptions (
    id               TEXT PRIMARY KEY,
    msisdn           TEXT NOT NULL REFERENCES subscribers (msisdn),
    package          TEXT NOT NULL,
    grp              TEXT NOT NULL,
    status           TEXT NOT NULL
                     CHECK (status IN ('active', 'cancelled', 'expired', 'renewal_failed')),
    started_at       INTEGER NOT NULL,
    period_start     INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    auto_renew       INTEGER NOT NULL,
    next_action_at   INTEGER,
    failed_since     INTEGER,
    cancelled_at     INTEGER,
    charge_month     TEXT,
    charged_in_month INTEGER NOT NULL DEFAULT 0,
    usage_bytes      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX subscriptions_by_msisdn ON subscriptions (msisdn);
CREATE INDEX subscriptions_due ON subscriptions (next_action_at, id) WHERE next_action_at IS NOT NULL;

CREATE TABLE charges (
    id              TEXT PRIMARY KEY,
    msisdn          TEXT NOT NULL REFERENCES subscribers (msisdn),
    subscription_id TEXT NOT NULL REFERENCES subscriptions (id) DEFERRABLE INITIALLY DEFERRED,
    package         TEXT NOT NULL,
    reason          TEXT NOT NULL,
    rule            TEXT NOT NULL,
    amount          INTEGER NOT NULL,
    billing         TEXT NOT NULL CHECK (billing IN ('balance', 'invoice')),
    invoice_month   TEXT,
    at              INTEGER NOT NULL,
    message_id      TEXT
);
CREATE INDEX charges_by_msisdn ON charges (msisdn, at);

CREATE TABLE invoice_lines (
    charge_id   TEXT PRIMARY KEY REFERENCES charges (id),
    msisdn      TEXT NOT NULL,
    month       TEXT NOT NULL,
    package     TEXT NOT NULL,
    description TEXT NOT NULL,
    amount      INTEGER NOT NULL,
    at          INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX invoice_lines_by_month ON invoice_lines (msisdn, month);

CREATE TABLE ledger (
    id            INTEGER PRIMARY KEY,
    msisdn        TEXT NOT NULL REFERENCES subscribers (msisdn),
    delta         INTEGER NOT NULL,
    balance_after INTEGER NOT NULL,
    reason        TEXT NOT NULL,
    charge_id     TEXT UNIQUE REFERENCES charges (id),
    at            INTEGER NOT NULL
);
CREATE INDEX ledger_by_msisdn ON ledger (msisdn, id);

CREATE TABLE inbound (
    msisdn      TEXT NOT NULL,
    id          TEXT NOT NULL,
    shortcode   TEXT NOT NULL,
    text        TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (msisdn, id)
) WITHOUT ROWID;

CREATE TABLE outbox (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    shortcode   TEXT NOT NULL,
    msisdn      TEXT NOT NULL,
    text        TEXT NOT NULL,
    in_reply_to TEXT,
    encoding    TEXT NOT NULL,
    segments    INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    -- 0 for a reply that does not settle its MO (an apology after a failure: a resend is new)
    answer      INTEGER NOT NULL DEFAULT 1,
    published   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_pending ON outbox (seq) WHERE published = 0;
CREATE INDEX outbox_by_reply ON outbox (msisdn, in_reply_to) WHERE in_reply_to IS NOT NULL;

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
