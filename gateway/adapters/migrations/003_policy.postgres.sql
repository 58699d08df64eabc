-- Schema version 3 on PostgreSQL (003_policy.sql is SQLite's): the same schema, reached
-- by altering the two tables in place where SQLite must rebuild them. SQLite's implicit
-- rowid orders a subscriber's subscriptions and charges made at the same instant; here
-- an identity column named rowid does (the repositories' SQL is the same for both).

ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_status_check;
ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_status_check CHECK (status IN (
    'trial', 'active', 'renewal_failed', 'pending_cancel', 'paused', 'cancelled', 'expired'));
ALTER TABLE subscriptions
    ADD COLUMN price INTEGER,
    ADD COLUMN first_paid_at INTEGER,
    ADD COLUMN last_paid_at INTEGER,
    ADD COLUMN last_paid_amount INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN periods_paid INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN used_since_paid INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN next_package TEXT,
    ADD COLUMN rowid INTEGER GENERATED ALWAYS AS IDENTITY;

ALTER TABLE charges ALTER COLUMN subscription_id DROP NOT NULL;
ALTER TABLE charges
    ADD COLUMN inputs TEXT NOT NULL DEFAULT '{}',
    ADD COLUMN rowid INTEGER GENERATED ALWAYS AS IDENTITY;

-- a question waiting for its answer (double opt-in, retention offers, a refund)
CREATE TABLE conversations (
    msisdn     TEXT NOT NULL,
    shortcode  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    package    TEXT NOT NULL,
    data       TEXT NOT NULL DEFAULT '{}',
    started_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (msisdn, shortcode)
) WITHOUT ROWID;

CREATE TABLE usage (
    id              INTEGER PRIMARY KEY,
    msisdn          TEXT NOT NULL REFERENCES subscribers (msisdn),
    app             TEXT NOT NULL,
    bytes           INTEGER NOT NULL CHECK (bytes > 0),
    at              INTEGER NOT NULL,
    -- the subscription that zero-rated it, or NULL when it was charged out of bundle
    subscription_id TEXT,
    charge_id       TEXT,
    event_id        TEXT,
    UNIQUE (msisdn, event_id)
);
CREATE INDEX usage_by_msisdn ON usage (msisdn, at);
