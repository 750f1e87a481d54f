-- +goose Up
-- Imports of products beside those of customers: a batch says which records it fills, and
-- matches products by SKU. What an import did to each product is kept for its undo, like
-- what it did to each customer. A check lists the tags the import will make.
ALTER TABLE import_batches ADD COLUMN new_tags jsonb NOT NULL DEFAULT '[]';
ALTER TABLE import_batches ADD COLUMN target text NOT NULL DEFAULT 'customers' CHECK (target IN ('customers', 'products'));
ALTER TABLE import_batches DROP CONSTRAINT import_batches_match_key_check;
ALTER TABLE import_batches ADD CONSTRAINT import_batches_match_key_check CHECK (match_key IN ('number', 'email', 'sku'));
ALTER TABLE import_mappings DROP CONSTRAINT import_mappings_kind_check;
ALTER TABLE import_mappings ADD CONSTRAINT import_mappings_kind_check CHECK (kind IN ('customers', 'products'));

CREATE TABLE import_product_changes (
    tenant_id  uuid        NOT NULL,
    batch_id   uuid        NOT NULL,
    product_id uuid        NOT NULL,
    action     text        NOT NULL CHECK (action IN ('created', 'updated')),
    before     jsonb,
    updated_at timestamptz NOT NULL,
    undo       text        CHECK (undo IN ('undone', 'kept')),
    PRIMARY KEY (tenant_id, batch_id, product_id),
    FOREIGN KEY (tenant_id, batch_id) REFERENCES import_batches (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id) ON DELETE CASCADE
);
ALTER TABLE import_product_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE import_product_changes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON import_product_changes
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
GRANT SELECT, INSERT ON import_product_changes TO moat_app;
GRANT UPDATE (updated_at, undo) ON import_product_changes TO moat_app;

-- +goose Down
DROP TABLE import_product_changes;
DELETE FROM import_batches WHERE target = 'products';
DELETE FROM import_mappings WHERE kind = 'products';
ALTER TABLE import_mappings DROP CONSTRAINT import_mappings_kind_check;
ALTER TABLE import_mappings ADD CONSTRAINT import_mappings_kind_check CHECK (kind = 'customers');
ALTER TABLE import_batches DROP CONSTRAINT import_batches_match_key_check;
ALTER TABLE import_batches ADD CONSTRAINT import_batches_match_key_check CHECK (match_key IN ('number', 'email'));
ALTER TABLE import_batches DROP COLUMN target;
ALTER TABLE import_batches DROP COLUMN new_tags;
