-- Schema version 11: an invoice line is a postpaid charge seen from its invoice. The
-- table held a copy of each invoice charge (written beside it by billing.book, the only
-- writer: the charge's id, MSISDN, month, plan, "<plan> <reason>", amount and instant);
-- the view reads the same values from `charges`, so every renewal writes one row fewer.
-- Reads by MSISDN use `charges_by_msisdn (msisdn, at)`.

DROP TABLE invoice_lines;

CREATE VIEW invoice_lines (charge_id, msisdn, month, package, description, amount, at) AS
SELECT id, msisdn, invoice_month, package, package || ' ' || reason, amount, at
FROM charges
WHERE billing = 'invoice';
