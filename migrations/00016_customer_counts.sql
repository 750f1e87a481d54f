-- +goose Up
-- The unfiltered list showed how many customers a tenant has by counting up to 1,001 rows on
-- every page view: five times the cost of the page itself. The tenant's counter row, which
-- numbering already keeps, now also holds how many customers are outside the trash, kept by
-- the statements that add, trash, restore and delete them, in their transactions.
ALTER TABLE customer_counters ADD COLUMN live bigint NOT NULL DEFAULT 0 CHECK (live >= 0);

-- +goose StatementBegin
-- A statement's change to each tenant's live customers, from its transition tables: one
-- counter update per statement, however many rows it touched (a bulk trash moves hundreds).
CREATE FUNCTION count_live_customers() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO customer_counters AS c (tenant_id, last, live)
            SELECT tenant_id, 0, count(*) FROM new_rows WHERE deleted_at IS NULL GROUP BY tenant_id
            ON CONFLICT (tenant_id) DO UPDATE SET live = c.live + EXCLUDED.live;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE customer_counters c SET live = c.live - d.n
            FROM (SELECT tenant_id, count(*) AS n FROM old_rows WHERE deleted_at IS NULL GROUP BY tenant_id) d
            WHERE c.tenant_id = d.tenant_id;
    ELSE
        UPDATE customer_counters c SET live = c.live + d.n
            FROM (SELECT tenant_id, sum(n) AS n FROM (
                    SELECT tenant_id, count(*) AS n FROM new_rows WHERE deleted_at IS NULL GROUP BY tenant_id
                    UNION ALL
                    SELECT tenant_id, -count(*) FROM old_rows WHERE deleted_at IS NULL GROUP BY tenant_id) s
                  GROUP BY tenant_id HAVING sum(n) <> 0) d
            WHERE c.tenant_id = d.tenant_id;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER customers_count_insert AFTER INSERT ON customers
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_live_customers();
CREATE TRIGGER customers_count_update AFTER UPDATE ON customers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_live_customers();
CREATE TRIGGER customers_count_delete AFTER DELETE ON customers
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION count_live_customers();

-- Backfill across tenants: the owner lifts FORCE inside this migration's transaction only.
ALTER TABLE customers NO FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_counters NO FORCE ROW LEVEL SECURITY;
INSERT INTO customer_counters AS c (tenant_id, last, live)
    SELECT tenant_id, 0, count(*) FROM customers WHERE deleted_at IS NULL GROUP BY tenant_id
    ON CONFLICT (tenant_id) DO UPDATE SET live = EXCLUDED.live;
ALTER TABLE customer_counters FORCE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;

-- +goose Down
DROP TRIGGER customers_count_delete ON customers;
DROP TRIGGER customers_count_update ON customers;
DROP TRIGGER customers_count_insert ON customers;
DROP FUNCTION count_live_customers();
ALTER TABLE customer_counters DROP COLUMN live;
