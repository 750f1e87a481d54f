-- +goose Up
-- Under row level security lower(number) = $1 cannot use an index (lower is not LEAKPROOF), so
-- each number check read the tenant's every row while holding its counter: creates in a
-- 60,000-customer tenant took 35 ms each and queued. A stored lower-cased copy compares with
-- plain equality, which the unique index serves.
ALTER TABLE customers ADD COLUMN number_key text GENERATED ALWAYS AS (lower(number)) STORED;
DROP INDEX customers_tenant_number;
CREATE UNIQUE INDEX customers_tenant_number ON customers (tenant_id, number_key);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION assign_customer_number() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
DECLARE
    n bigint;
BEGIN
    IF NEW.number IS NOT NULL AND NEW.number <> '' THEN
        RETURN NEW;
    END IF;
    LOOP
        INSERT INTO customer_counters AS c (tenant_id, last) VALUES (NEW.tenant_id, 1)
            ON CONFLICT (tenant_id) DO UPDATE SET last = c.last + 1
            RETURNING last INTO n;
        -- At least five digits; lpad alone would cut C-100000 to C-10000.
        NEW.number := 'C-' || lpad(n::text, greatest(5, length(n::text)), '0');
        -- A number typed by hand may have taken this one: skip it.
        EXIT WHEN NOT EXISTS (SELECT 1 FROM customers WHERE tenant_id = NEW.tenant_id AND number_key = lower(NEW.number));
    END LOOP;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX customers_tenant_number;
CREATE UNIQUE INDEX customers_tenant_number ON customers (tenant_id, lower(number));
ALTER TABLE customers DROP COLUMN number_key;
