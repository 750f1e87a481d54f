-- +goose Up
-- A line names its product by SKU, and an import matches rows by SKU: lower(sku) = lower($1)
-- cannot use an index under row level security (lower is not LEAKPROOF), so each lookup read
-- the tenant's every product. A stored lower-cased copy compares with plain equality, as
-- email_key (00026) and number_key (00010) do.
ALTER TABLE products ADD COLUMN sku_key text GENERATED ALWAYS AS (lower(sku)) STORED;
CREATE INDEX products_tenant_sku_key ON products (tenant_id, sku_key) WHERE deleted_at IS NULL;

-- +goose Down
ALTER TABLE products DROP COLUMN sku_key;
