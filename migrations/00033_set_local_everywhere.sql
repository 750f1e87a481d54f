-- +goose Up
-- The last two settings made with set_config become SET LOCAL, which Citus forwards to its
-- workers (docs/citus.md): stock_drift's tenant, a tenant at a time, and moat.actor, who moves
-- the stock an invoice's status moves, read by triggers that run where the rows are.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION stock_drift() RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
DECLARE
    t uuid;
    n bigint := 0;
    drifted bigint;
    before text := current_setting('app.tenant_id', true);
BEGIN
    FOR t IN SELECT id FROM tenants ORDER BY id LOOP
        PERFORM enter_tenant(t);
        WITH ledger AS (
            SELECT m.product_id, m.warehouse_id, sum(m.quantity) AS on_hand
            FROM stock_movements m WHERE m.tenant_id = t GROUP BY 1, 2),
        held AS (
            SELECT l.product_id, l.warehouse_id, sum(l.quantity) AS reserved
            FROM invoices i JOIN invoice_lines l ON l.tenant_id = i.tenant_id AND l.invoice_id = i.id
            WHERE i.tenant_id = t AND i.status = 'draft' AND l.reserved GROUP BY 1, 2)
        SELECT count(*) INTO drifted
        FROM (SELECT * FROM stock_balances s WHERE s.tenant_id = t) b
        FULL JOIN ledger g ON g.product_id = b.product_id AND g.warehouse_id = b.warehouse_id
        FULL JOIN held h ON h.product_id = coalesce(b.product_id, g.product_id) AND h.warehouse_id = coalesce(b.warehouse_id, g.warehouse_id)
        WHERE coalesce(b.on_hand, 0) <> coalesce(g.on_hand, 0) OR coalesce(b.reserved, 0) <> coalesce(h.reserved, 0);
        n := n + drifted;
    END LOOP;
    EXECUTE pg_catalog.format('SET LOCAL app.tenant_id = %L', coalesce(before, ''));
    RETURN n;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- enter_actor names the person the app says acts, for the stock triggers, for the transaction.
CREATE FUNCTION enter_actor(a uuid) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    EXECUTE pg_catalog.format('SET LOCAL moat.actor = %L', coalesce(a::text, ''));
END $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION enter_actor(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION enter_actor(uuid) TO moat_app;

-- +goose Down
DROP FUNCTION enter_actor(uuid);
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION stock_drift() RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
DECLARE
    t uuid;
    n bigint := 0;
    drifted bigint;
    before text := current_setting('app.tenant_id', true);
BEGIN
    FOR t IN SELECT id FROM tenants ORDER BY id LOOP
        PERFORM set_config('app.tenant_id', t::text, true);
        WITH ledger AS (
            SELECT m.product_id, m.warehouse_id, sum(m.quantity) AS on_hand
            FROM stock_movements m WHERE m.tenant_id = t GROUP BY 1, 2),
        held AS (
            SELECT l.product_id, l.warehouse_id, sum(l.quantity) AS reserved
            FROM invoices i JOIN invoice_lines l ON l.tenant_id = i.tenant_id AND l.invoice_id = i.id
            WHERE i.tenant_id = t AND i.status = 'draft' AND l.reserved GROUP BY 1, 2)
        SELECT count(*) INTO drifted
        FROM (SELECT * FROM stock_balances s WHERE s.tenant_id = t) b
        FULL JOIN ledger g ON g.product_id = b.product_id AND g.warehouse_id = b.warehouse_id
        FULL JOIN held h ON h.product_id = coalesce(b.product_id, g.product_id) AND h.warehouse_id = coalesce(b.warehouse_id, g.warehouse_id)
        WHERE coalesce(b.on_hand, 0) <> coalesce(g.on_hand, 0) OR coalesce(b.reserved, 0) <> coalesce(h.reserved, 0);
        n := n + drifted;
    END LOOP;
    PERFORM set_config('app.tenant_id', coalesce(before, ''), true);
    RETURN n;
END
$$;
-- +goose StatementEnd
