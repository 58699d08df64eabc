-- Schema version 3: the policy engine. Subscriptions get the states of the policy
-- model (trial, pending_cancel, paused) and the facts its rules need; charges record
-- the inputs of the rule that produced them; conversations and usage are stored.

CREATE TABLE subscriptions_v3 (
    id               TEXT PRIMARY KEY,
    msisdn           TEXT NOT NULL REFERENCES subscribers (msisdn),
    package          TEXT NOT NULL,
    grp              TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN (
                         'trial', 'active', 'renewal_failed', 'pending_cancel', 'paused',
                         'cancelled', 'expired')),
    started_at       INTEGER NOT NULL,
    period_start     INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    auto_renew       INTEGER NOT NULL,
    next_action_at   INTEGER,
    failed_since     INTEGER,
    cancelled_at     INTEGER,
    charge_month     TEXT,
    charged_in_month INTEGER NOT NULL DEFAULT 0,
    usage_bytes      INTEGER NOT NULL DEFAULT 0,
    -- the list price this subscription pays (fixed for the term; NULL: the plan's)
    price            INTEGER,
    first_paid_at    INTEGER,
    last_paid_at     INTEGER,
    last_paid_amount INTEGER NOT NULL DEFAULT 0,
    periods_paid     INTEGER NOT NULL DEFAULT 0,
    -- bytes used since the last payment (a refund may ask that nothing was used)
    used_since_paid  INTEGER NOT NULL DEFAULT 0,
    -- a plan switch accepted for the next period (a retention offer)
    next_package     TEXT
);
INSERT INTO subscriptions_v3 (
    id, msisdn, package, grp, status, started_at, period_start, expires_at, auto_renew,
    next_action_at, failed_since, cancelled_at, charge_month, charged_in_month, usage_bytes)
SELECT id, msisdn, package, grp, status, started_at, period_start, expires_at, auto_renew,
    next_action_at, failed_since, cancelled_at, charge_month, charged_in_month, usage_bytes
FROM subscriptions;
DROP TABLE subscriptions;
ALTER TABLE subscriptions_v3 RENAME TO subscriptions;
CREATE INDEX subscriptions_by_msisdn ON subscriptions (msisdn);
CREATE INDEX subscriptions_due ON subscriptions (next_action_at, id) WHERE next_action_at IS NOT NULL;

-- charges: data used outside any pack is charged without a subscription; each charge
-- keeps the inputs of its rule as JSON ("why was I charged 7,500 đ?")
CREATE TABLE charges_v3 (
    id              TEXT PRIMARY KEY,
    msisdn          TEXT NOT NULL REFERENCES subscribers (msisdn),
    subscription_id TEXT REFERENCES subscriptions (id) DEFERRABLE INITIALLY DEFERRED,
    package         TEXT NOT NULL,
    reason          TEXT NOT NULL,
    rule            TEXT NOT NULL,
    amount          INTEGER NOT NULL,
    billing         TEXT NOT NULL CHECK (billing IN ('balance', 'invoice')),
    invoice_month   TEXT,
    at              INTEGER NOT NULL,
    message_id      TEXT,
    inputs          TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO charges_v3 (id, msisdn, subscription_id, package, reason, rule, amount, billing,
    invoice_month, at, message_id)
SELECT id, msisdn, subscription_id, package, reason, rule, amount, billing, invoice_month, at,
    message_id
FROM charges;
DROP TABLE charges;
ALTER TABLE charges_v3 RENAME TO charges;
CREATE INDEX charges_by_msisdn ON charges (msisdn, at);

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
