-- Schema version 10: a subscriber's open subscriptions found without walking their
-- history. Every MO reads them (``open_of``); through ``subscriptions_by_msisdn`` that
-- read visited every subscription the MSISDN ever had, ended ones included, so it grew
-- with each DK/HUY. The condition is the one ``open_of`` states, word for word (SQLite
-- uses a partial index only for a query whose WHERE names its condition).

CREATE INDEX subscriptions_open_by_msisdn ON subscriptions (msisdn, started_at)
    WHERE status IN ('trial', 'active', 'renewal_failed', 'pending_cancel', 'paused');
