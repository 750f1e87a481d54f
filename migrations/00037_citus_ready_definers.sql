-- +goose Up
-- Definers that run beside the app role's own writes, in one transaction, written so that Citus
-- can run them too (docs/citus.md). Citus opens one connection per role, and refuses a statement
-- on rows another role's connection changed in the same transaction (citus#3867). So:
-- - erase_customer, close_tenant and lock_stock take the tenant as their first argument, and
--   refuse any but the transaction's own. On Citus they run on the tenant's worker, in the
--   app's own connection there (create_distributed_function … force_delegation).
-- - close_tenant no longer locks the tenant's row: its caller does, first.
-- - claim_invitation only reads the invitation; the app role, which may, accepts it.
-- - purge_tenant asks which accounts are kept before deleting, rather than in a correlated
--   subquery on users.
-- - The app role inserts tenants with a grant on the table and a trigger that keeps purging
--   false, instead of a column-level grant: Citus sends every column.
-- Nothing changes on plain PostgreSQL but the signatures.
-- +goose StatementBegin
DROP FUNCTION erase_customer(uuid, uuid);
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION erase_customer(p_tenant uuid, p_id uuid, p_by uuid) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
DECLARE
    t uuid := current_tenant_id();
    n bigint;
BEGIN
    IF t IS DISTINCT FROM p_tenant THEN
        RAISE EXCEPTION 'erase_customer: not the transaction''s tenant' USING ERRCODE = '42501';
    END IF;
    UPDATE customers SET name = 'Erased customer', company = '', email = '', phone = '', emails = '[]', phones = '[]', website = '',
           tax_id = '', billing_address = '', shipping_address = '', erased_at = now(), erased_by = p_by, updated_at = now()
        WHERE tenant_id = t AND id = p_id AND erased_at IS NULL;
    IF NOT FOUND THEN
        RETURN -1;
    END IF;
    UPDATE audit_events SET details = '{"erased": true}'
        WHERE tenant_id = t AND entity = 'customer' AND entity_id = p_id::text AND details IS NOT NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    DELETE FROM customer_notes WHERE tenant_id = t AND customer_id = p_id;
    DELETE FROM customer_duplicates WHERE tenant_id = t AND (customer_id = p_id OR other_id = p_id);
    DELETE FROM import_chunks WHERE tenant_id = t AND batch_id IN (SELECT batch_id FROM import_changes WHERE tenant_id = t AND customer_id = p_id);
    UPDATE import_batches SET preview = '[]'
        WHERE tenant_id = t AND id IN (SELECT batch_id FROM import_changes WHERE tenant_id = t AND customer_id = p_id);
    UPDATE import_changes SET before = NULL, undo = coalesce(undo, 'kept') WHERE tenant_id = t AND customer_id = p_id;
    DELETE FROM export_chunks WHERE tenant_id = t;
    UPDATE exports SET status = 'expired' WHERE tenant_id = t AND status = 'ready';
    RETURN n;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
DROP FUNCTION close_tenant(uuid, interval);
-- +goose StatementEnd
-- +goose StatementBegin
-- The caller holds the tenant's row lock (SELECT … FROM tenants … FOR UPDATE), as exports do.
CREATE FUNCTION close_tenant(p_tenant uuid, p_by uuid, p_grace interval) RETURNS timestamptz
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
DECLARE
    t uuid := current_tenant_id();
    due timestamptz := now() + greatest(p_grace, interval '7 days');
BEGIN
    IF t IS DISTINCT FROM p_tenant THEN
        RAISE EXCEPTION 'close_tenant: not the transaction''s tenant' USING ERRCODE = '42501';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM users WHERE tenant_id = t AND id = p_by AND role = 'owner' AND deactivated_at IS NULL) THEN
        RAISE EXCEPTION 'close_tenant: % is not an owner of the organization', p_by USING ERRCODE = '42501';
    END IF;
    INSERT INTO tenant_closures (tenant_id, requested_by, requested_at, delete_after) VALUES (t, p_by, now(), due);
    DELETE FROM invitations WHERE tenant_id = t AND accepted_at IS NULL;
    RETURN due;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
DROP FUNCTION lock_stock(uuid[], uuid[]);
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION lock_stock(p_tenant uuid, products uuid[], warehouses uuid[]) RETURNS SETOF stock_balances
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
DECLARE
    k record;
BEGIN
    IF current_tenant_id() IS DISTINCT FROM p_tenant THEN
        RAISE EXCEPTION 'lock_stock: not the transaction''s tenant' USING ERRCODE = '42501';
    END IF;
    -- A row at a time, each statement naming p_tenant: a delegated function on Citus may reach
    -- only its tenant's shards, and Citus must see that in every statement.
    FOR k IN SELECT u.p, u.w FROM unnest(products, warehouses) AS u(p, w) ORDER BY u.p, u.w LOOP
        IF EXISTS (SELECT 1 FROM products pr WHERE pr.tenant_id = p_tenant AND pr.id = k.p AND pr.stocked) THEN
            INSERT INTO stock_balances (tenant_id, product_id, warehouse_id) VALUES (p_tenant, k.p, k.w) ON CONFLICT DO NOTHING;
        END IF;
    END LOOP;
    RETURN QUERY SELECT b.* FROM stock_balances b
        WHERE b.tenant_id = p_tenant AND (b.product_id, b.warehouse_id) IN (SELECT * FROM unnest(products, warehouses))
        ORDER BY b.product_id, b.warehouse_id FOR UPDATE;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
-- claim_invitation reads the open invitation whose token hashes to p_token_hash, in the
-- transaction of its organization, and returns the account joining: the address's own, or a new
-- one with p_password_hash. The caller accepts the invitation, and must find it still open.
CREATE OR REPLACE FUNCTION claim_invitation(p_token_hash text, p_password_hash text)
    RETURNS TABLE (account_id uuid, created boolean, invitation_id uuid, email text, name text, role text)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
DECLARE
    i invitations;
BEGIN
    SELECT * INTO i FROM invitations v
        WHERE v.tenant_id = current_tenant_id() AND v.token_hash = p_token_hash AND v.accepted_at IS NULL AND v.expires_at > now();
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT a.id INTO account_id FROM accounts a WHERE a.email = i.email;
    created := NOT FOUND;
    IF created THEN
        IF coalesce(p_password_hash, '') = '' THEN
            RAISE EXCEPTION 'a new account needs a password' USING ERRCODE = '22023';
        END IF;
        INSERT INTO accounts (email, password_hash) VALUES (i.email, p_password_hash) RETURNING id INTO account_id;
    END IF;
    invitation_id := i.id; email := i.email; name := i.name; role := i.role;
    RETURN NEXT;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION public.purge_tenant()
 RETURNS boolean
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
DECLARE
    t       uuid := current_tenant_id();
    c       tenant_closures;
    tbl     regclass;
    blocked integer;
    before  integer := -1;
    accts   uuid[];
    kept    uuid[];
BEGIN
    SELECT * INTO c FROM tenant_closures WHERE tenant_id = t FOR UPDATE;
    IF NOT FOUND OR c.delete_after > now() THEN
        RETURN false;
    END IF;
    UPDATE tenants SET purging = true WHERE id = t;
    DELETE FROM sessions WHERE k IN (SELECT session_key FROM user_sessions WHERE tenant_id = t);
    accts := ARRAY(SELECT DISTINCT account_id FROM users WHERE tenant_id = t AND account_id IS NOT NULL);
    -- Foreign keys decide the order: a table still referenced is tried again on the next pass.
    LOOP
        blocked := 0;
        FOR tbl IN
            SELECT a.attrelid::regclass FROM pg_attribute a JOIN pg_class r ON r.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = r.relnamespace
            WHERE n.nspname = 'public' AND a.attname = 'tenant_id' AND NOT a.attisdropped
              AND r.relkind IN ('r', 'p') AND NOT r.relispartition AND r.relname NOT IN ('record_ids', 'tenant_closures')
            ORDER BY r.relname
        LOOP
            BEGIN
                EXECUTE format('DELETE FROM %s WHERE tenant_id = $1', tbl) USING t;
            EXCEPTION WHEN foreign_key_violation THEN
                blocked := blocked + 1;
            END;
        END LOOP;
        EXIT WHEN blocked = 0;
        IF blocked = before THEN
            RAISE EXCEPTION 'purge of tenant %: % tables stay referenced', t, blocked;
        END IF;
        before := blocked;
    END LOOP;
    DELETE FROM record_ids WHERE tenant_id = t;
    -- Its jobs, but the one running this: River keeps that a day, then deletes it.
    DELETE FROM river.river_job WHERE args->>'tenant' = t::text AND state <> 'running';
    DELETE FROM tenant_closures WHERE tenant_id = t;
    DELETE FROM tenants WHERE id = t;
    -- An account with no organization left is nobody's: its email and password go too.
    kept := ARRAY(SELECT DISTINCT u.account_id FROM users u WHERE u.account_id = ANY (accts));
    DELETE FROM sign_in_failures WHERE account_id = ANY (accts) AND NOT account_id = ANY (kept);
    DELETE FROM accounts WHERE id = ANY (accts) AND NOT id = ANY (kept);
    INSERT INTO closed_tenants (id, closed_at, closed_by) VALUES (t, c.requested_at, c.requested_by);
    RETURN true;
END
$function$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION tenants_not_purging() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
BEGIN
    NEW.purging := false;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER tenants_not_purging BEFORE INSERT ON tenants FOR EACH ROW EXECUTE FUNCTION tenants_not_purging();
GRANT INSERT ON tenants TO moat_app;
REVOKE ALL ON FUNCTION erase_customer(uuid, uuid, uuid), close_tenant(uuid, uuid, interval), lock_stock(uuid, uuid[], uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION erase_customer(uuid, uuid, uuid), close_tenant(uuid, uuid, interval), lock_stock(uuid, uuid[], uuid[]) TO moat_app;

-- +goose Down
REVOKE INSERT ON tenants FROM moat_app;
GRANT INSERT (id, name, created_at) ON tenants TO moat_app;
DROP TRIGGER tenants_not_purging ON tenants;
DROP FUNCTION tenants_not_purging();
DROP FUNCTION erase_customer(uuid, uuid, uuid);
DROP FUNCTION close_tenant(uuid, uuid, interval);
DROP FUNCTION lock_stock(uuid, uuid[], uuid[]);
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION erase_customer(p_id uuid, p_by uuid)
 RETURNS bigint
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
DECLARE
    t uuid := current_tenant_id();
    n bigint;
BEGIN
    UPDATE customers SET name = 'Erased customer', company = '', email = '', phone = '', emails = '[]', phones = '[]', website = '',
           tax_id = '', billing_address = '', shipping_address = '', erased_at = now(), erased_by = p_by, updated_at = now()
        WHERE tenant_id = t AND id = p_id AND erased_at IS NULL;
    IF NOT FOUND THEN
        RETURN -1;
    END IF;
    UPDATE audit_events SET details = '{"erased": true}'
        WHERE tenant_id = t AND entity = 'customer' AND entity_id = p_id::text AND details IS NOT NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    DELETE FROM customer_notes WHERE tenant_id = t AND customer_id = p_id;
    DELETE FROM customer_duplicates WHERE tenant_id = t AND (customer_id = p_id OR other_id = p_id);
    DELETE FROM import_chunks WHERE tenant_id = t AND batch_id IN (SELECT batch_id FROM import_changes WHERE tenant_id = t AND customer_id = p_id);
    UPDATE import_batches SET preview = '[]'
        WHERE tenant_id = t AND id IN (SELECT batch_id FROM import_changes WHERE tenant_id = t AND customer_id = p_id);
    UPDATE import_changes SET before = NULL, undo = coalesce(undo, 'kept') WHERE tenant_id = t AND customer_id = p_id;
    DELETE FROM export_chunks WHERE tenant_id = t;
    UPDATE exports SET status = 'expired' WHERE tenant_id = t AND status = 'ready';
    RETURN n;
END
$function$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION close_tenant(p_by uuid, p_grace interval)
 RETURNS timestamp with time zone
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
DECLARE
    due timestamptz := now() + greatest(p_grace, interval '7 days');
BEGIN
    PERFORM 1 FROM tenants WHERE id = current_tenant_id() FOR UPDATE;
    IF NOT EXISTS (SELECT 1 FROM users WHERE tenant_id = current_tenant_id() AND id = p_by AND role = 'owner' AND deactivated_at IS NULL) THEN
        RAISE EXCEPTION 'close_tenant: % is not an owner of the organization', p_by USING ERRCODE = '42501';
    END IF;
    INSERT INTO tenant_closures (tenant_id, requested_by, requested_at, delete_after) VALUES (current_tenant_id(), p_by, now(), due);
    DELETE FROM invitations WHERE tenant_id = current_tenant_id() AND accepted_at IS NULL;
    RETURN due;
END
$function$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION lock_stock(products uuid[], warehouses uuid[])
 RETURNS SETOF stock_balances
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
BEGIN
    INSERT INTO stock_balances (tenant_id, product_id, warehouse_id)
        SELECT current_tenant_id(), u.p, u.w FROM unnest(products, warehouses) AS u(p, w)
        JOIN products pr ON pr.tenant_id = current_tenant_id() AND pr.id = u.p AND pr.stocked
        ORDER BY u.p, u.w ON CONFLICT DO NOTHING;
    RETURN QUERY SELECT b.* FROM stock_balances b
        WHERE b.tenant_id = current_tenant_id() AND (b.product_id, b.warehouse_id) IN (SELECT * FROM unnest(products, warehouses))
        ORDER BY b.product_id, b.warehouse_id FOR UPDATE;
END
$function$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION claim_invitation(p_token_hash text, p_password_hash text)
 RETURNS TABLE(account_id uuid, created boolean, invitation_id uuid, email text, name text, role text)
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
DECLARE
    i invitations;
BEGIN
    UPDATE invitations v SET accepted_at = now()
        WHERE v.tenant_id = current_tenant_id() AND v.token_hash = p_token_hash AND v.accepted_at IS NULL AND v.expires_at > now()
        RETURNING * INTO i;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT a.id INTO account_id FROM accounts a WHERE a.email = i.email;
    created := NOT FOUND;
    IF created THEN
        IF coalesce(p_password_hash, '') = '' THEN
            RAISE EXCEPTION 'a new account needs a password' USING ERRCODE = '22023';
        END IF;
        INSERT INTO accounts (email, password_hash) VALUES (i.email, p_password_hash) RETURNING id INTO account_id;
    END IF;
    invitation_id := i.id; email := i.email; name := i.name; role := i.role;
    RETURN NEXT;
END
$function$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION purge_tenant()
 RETURNS boolean
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
DECLARE
    t       uuid := current_tenant_id();
    c       tenant_closures;
    tbl     regclass;
    blocked integer;
    before  integer := -1;
    accts   uuid[];
BEGIN
    SELECT * INTO c FROM tenant_closures WHERE tenant_id = t FOR UPDATE;
    IF NOT FOUND OR c.delete_after > now() THEN
        RETURN false;
    END IF;
    UPDATE tenants SET purging = true WHERE id = t;
    DELETE FROM sessions WHERE k IN (SELECT session_key FROM user_sessions WHERE tenant_id = t);
    accts := ARRAY(SELECT DISTINCT account_id FROM users WHERE tenant_id = t AND account_id IS NOT NULL);
    -- Foreign keys decide the order: a table still referenced is tried again on the next pass.
    LOOP
        blocked := 0;
        FOR tbl IN
            SELECT a.attrelid::regclass FROM pg_attribute a JOIN pg_class r ON r.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = r.relnamespace
            WHERE n.nspname = 'public' AND a.attname = 'tenant_id' AND NOT a.attisdropped
              AND r.relkind IN ('r', 'p') AND NOT r.relispartition AND r.relname NOT IN ('record_ids', 'tenant_closures')
            ORDER BY r.relname
        LOOP
            BEGIN
                EXECUTE format('DELETE FROM %s WHERE tenant_id = $1', tbl) USING t;
            EXCEPTION WHEN foreign_key_violation THEN
                blocked := blocked + 1;
            END;
        END LOOP;
        EXIT WHEN blocked = 0;
        IF blocked = before THEN
            RAISE EXCEPTION 'purge of tenant %: % tables stay referenced', t, blocked;
        END IF;
        before := blocked;
    END LOOP;
    DELETE FROM record_ids WHERE tenant_id = t;
    -- Its jobs, but the one running this: River keeps that a day, then deletes it.
    DELETE FROM river.river_job WHERE args->>'tenant' = t::text AND state <> 'running';
    DELETE FROM tenant_closures WHERE tenant_id = t;
    DELETE FROM tenants WHERE id = t;
    -- An account with no organization left is nobody's: its email and password go too.
    DELETE FROM sign_in_failures WHERE account_id = ANY (accts)
        AND NOT EXISTS (SELECT 1 FROM users u WHERE u.account_id = sign_in_failures.account_id);
    DELETE FROM accounts WHERE id = ANY (accts)
        AND NOT EXISTS (SELECT 1 FROM users u WHERE u.account_id = accounts.id);
    INSERT INTO closed_tenants (id, closed_at, closed_by) VALUES (t, c.requested_at, c.requested_by);
    RETURN true;
END
$function$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION erase_customer(uuid, uuid), close_tenant(uuid, interval), lock_stock(uuid[], uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION erase_customer(uuid, uuid), close_tenant(uuid, interval), lock_stock(uuid[], uuid[]) TO moat_app;
