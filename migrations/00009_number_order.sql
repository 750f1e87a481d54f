-- +goose Up
-- The list sorts customer numbers by length first (lpad), so C-9 comes before C-10 and
-- C-99999 before C-100000; numbers are at most 30 characters, so lpad never cuts one.
CREATE INDEX customers_tenant_number_order ON customers (tenant_id, lpad(lower(number), 30), id);

-- +goose Down
DROP INDEX customers_tenant_number_order;
