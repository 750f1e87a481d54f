-- +goose Up
-- An import matches each row by email. Under row level security lower(email) = $1 cannot use
-- an index (lower is not LEAKPROOF), so each match read the tenant's every customer: a
-- 100,000-row import slowed with every row it added. A stored lower-cased copy compares with
-- plain equality, as number_key does. Adding it rewrites the table (minutes on a million
-- customers), like migration 00010.
ALTER TABLE customers ADD COLUMN email_key text GENERATED ALWAYS AS (lower(email)) STORED;
CREATE INDEX customers_tenant_email_key ON customers (tenant_id, email_key) WHERE deleted_at IS NULL;

-- +goose Down
ALTER TABLE customers DROP COLUMN email_key;
