-- Schema version 5: the price change a subscription was last told of (seed 001: "chúng
-- tôi sẽ luôn thông báo cho bạn trước"), so that each notice is sent exactly once.

ALTER TABLE subscriptions ADD COLUMN price_notice TEXT;
CREATE INDEX subscriptions_by_package ON subscriptions (package, status);
