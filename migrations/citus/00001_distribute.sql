-- Moat on Citus: shard the migrated schema by tenant. `moat migrate` runs this once, in one
-- transaction, on a coordinator whose database has the citus extension (docs/citus.md), after
-- the numbered migrations. Each change says what Citus refused without it. The app role must
-- have citus.propagate_set_commands = local, so that its SET LOCAL of the tenant reaches the
-- workers: a superuser's ALTER ROLE (cluster.Citus does it; the posture check insists).
-- +goose Up
SET LOCAL citus.enable_unsafe_triggers = on;       -- Moat's triggers fire on the shards
SET LOCAL citus.multi_shard_modify_mode = sequential; -- foreign keys to the reference table, after the copies

-- Foreign keys out of the way: a table that local tables still reference cannot be distributed.
CREATE TEMP TABLE moat_fks ON COMMIT DROP AS
    SELECT conrelid::regclass AS tbl, conname, pg_get_constraintdef(oid) AS def
    FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace;
-- +goose StatementBegin
DO $$
DECLARE
    f record;
BEGIN
    -- The authors' keys below are the ones this script knows how to keep; a new one needs a line.
    IF EXISTS (SELECT 1 FROM moat_fks WHERE def LIKE '%ON DELETE SET NULL%'
               AND tbl::text || '.' || conname NOT IN (
                   'customers.customers_tenant_id_created_by_fkey', 'customers.customers_tenant_id_deleted_by_fkey',
                   'customer_notes.customer_notes_tenant_id_created_by_fkey', 'invitations.invitations_tenant_id_invited_by_fkey',
                   'invoices.invoices_tenant_id_created_by_fkey', 'invoice_payments.invoice_payments_tenant_id_created_by_fkey')) THEN
        RAISE EXCEPTION 'citus: an ON DELETE SET NULL key this script does not know; add it to users_clear_authors';
    END IF;
    FOR f IN SELECT * FROM moat_fks LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', f.tbl, f.conname);
    END LOOP;
END $$;
-- +goose StatementEnd

-- The tables to distribute: tenants, and every public table with tenant_id (partitions follow
-- their parent). Citus copies their rows with COPY: user triggers would fire again on each row,
-- and FORCE ROW LEVEL SECURITY refuses COPY FROM.
CREATE TEMP TABLE moat_dist ON COMMIT DROP AS
    SELECT c.oid::regclass AS tbl, c.relname::text AS name, c.relispartition AS part
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
      AND (c.relname = 'tenants' OR EXISTS (SELECT 1 FROM pg_attribute a
           WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped));
-- +goose StatementBegin
DO $$
DECLARE
    t regclass;
BEGIN
    FOR t IN SELECT tbl FROM moat_dist LOOP
        EXECUTE format('ALTER TABLE %s DISABLE TRIGGER USER', t);
        EXECUTE format('ALTER TABLE %s NO FORCE ROW LEVEL SECURITY', t);
    END LOOP;
END $$;
-- +goose StatementEnd

-- tenants on every node; every tenant table sharded by tenant_id, colocated with users, so that
-- one tenant's rows of every table live on one worker.
SELECT create_reference_table('tenants');
SELECT create_distributed_table('users', 'tenant_id', colocate_with => 'none');
SELECT create_distributed_table(tbl, 'tenant_id', colocate_with => 'users')
    FROM moat_dist WHERE NOT part AND name NOT IN ('tenants', 'users') ORDER BY name;

-- Foreign keys back, each holding tenant_id or pointing at tenants. Citus refuses ON DELETE SET
-- NULL on a key that holds the distribution column: the authors' keys come back checked at
-- commit, and users_clear_authors clears a removed person's authorship after the delete (after,
-- so that the invoice guard sees the person gone). users.account_id does not come back:
-- accounts stays on the coordinator (a definer writes it beside the app's writes, citus#3867).
-- +goose StatementBegin
DO $$
DECLARE
    f record;
BEGIN
    FOR f IN SELECT * FROM moat_fks WHERE conname <> 'users_account_id_fkey' LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', f.tbl, f.conname,
                       regexp_replace(f.def, ' ON DELETE SET NULL \(\w+\)', ' DEFERRABLE INITIALLY DEFERRED'));
    END LOOP;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION users_clear_authors() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
BEGIN
    UPDATE customers SET created_by = NULL WHERE tenant_id = OLD.tenant_id AND created_by = OLD.id;
    UPDATE customers SET deleted_by = NULL WHERE tenant_id = OLD.tenant_id AND deleted_by = OLD.id;
    UPDATE customer_notes SET created_by = NULL WHERE tenant_id = OLD.tenant_id AND created_by = OLD.id;
    UPDATE invitations SET invited_by = NULL WHERE tenant_id = OLD.tenant_id AND invited_by = OLD.id;
    UPDATE invoices SET created_by = NULL WHERE tenant_id = OLD.tenant_id AND created_by = OLD.id;
    UPDATE invoice_payments SET created_by = NULL WHERE tenant_id = OLD.tenant_id AND created_by = OLD.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION users_clear_authors() FROM PUBLIC;
CREATE TRIGGER users_clear_authors AFTER DELETE ON users FOR EACH ROW EXECUTE FUNCTION users_clear_authors();

-- The coordinator's copies of the rows are no longer read (before the triggers are back:
-- stock_movements refuses TRUNCATE).
SELECT truncate_local_data_after_distributing_table(tbl) FROM moat_dist WHERE NOT part;

-- +goose StatementBegin
DO $$
DECLARE
    t regclass;
BEGIN
    FOR t IN SELECT tbl FROM moat_dist LOOP
        EXECUTE format('ALTER TABLE %s ENABLE TRIGGER USER', t);
        EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t);
    END LOOP;
END $$;
-- +goose StatementEnd

-- Statement triggers with transition tables fail on the shards ("could not find named
-- tuplestore"): the same work a row at a time.
DROP TRIGGER customers_count_insert ON customers;
DROP TRIGGER customers_count_update ON customers;
DROP TRIGGER customers_count_delete ON customers;
DROP TRIGGER customers_forget_duplicates ON customers;
DROP FUNCTION count_live_customers();
DROP FUNCTION forget_duplicates();

-- +goose StatementBegin
CREATE FUNCTION count_live_customers() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
DECLARE
    d integer := CASE WHEN TG_OP <> 'DELETE' AND NEW.deleted_at IS NULL THEN 1 ELSE 0 END
               - CASE WHEN TG_OP <> 'INSERT' AND OLD.deleted_at IS NULL THEN 1 ELSE 0 END;
BEGIN
    IF d = 0 THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO customer_counters AS c (tenant_id, last, live) VALUES (NEW.tenant_id, 0, 1)
            ON CONFLICT (tenant_id) DO UPDATE SET live = c.live + 1;
    ELSE
        UPDATE customer_counters c SET live = c.live + d WHERE c.tenant_id = OLD.tenant_id;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER customers_count AFTER INSERT OR UPDATE OF deleted_at OR DELETE ON customers
    FOR EACH ROW EXECUTE FUNCTION count_live_customers();

-- +goose StatementBegin
CREATE FUNCTION forget_duplicates() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
BEGIN
    DELETE FROM customer_duplicates d
        WHERE d.tenant_id = OLD.tenant_id AND (d.customer_id = OLD.id OR d.other_id = OLD.id);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER customers_forget_duplicates AFTER DELETE ON customers
    FOR EACH ROW EXECUTE FUNCTION forget_duplicates();

-- "subqueries are not supported within INSERT queries", in ON CONFLICT's SET: the newest view
-- goes first, as it is newest but for views committed out of order. (An array slice there,
-- (EXCLUDED.times || r.times)[1:20], crashes the worker: trim_array.)
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION count_record_view() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
BEGIN
    INSERT INTO record_views AS r (tenant_id, entity, entity_id, day, user_id, views, last_at, times)
    VALUES (NEW.tenant_id, NEW.entity, NEW.entity_id, (NEW.occurred_at AT TIME ZONE 'UTC')::date, NEW.user_id, 1,
            NEW.occurred_at, ARRAY[NEW.occurred_at])
    ON CONFLICT (tenant_id, entity, entity_id, day, user_id) DO UPDATE
        SET views = r.views + 1, last_at = greatest(r.last_at, EXCLUDED.last_at),
            times = trim_array(EXCLUDED.times || r.times, greatest(cardinality(r.times) - 19, 0));
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- On a worker a trigger fires on the shard, whose name carries its id (customers_102008): the
-- registry keeps the table's name, which probe_record_id asks for.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION register_record_id() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO record_ids (id, entity, tenant_id) VALUES (NEW.id, regexp_replace(TG_TABLE_NAME, '_[0-9]+$', ''), NEW.tenant_id);
        RETURN NEW;
    END IF;
    DELETE FROM record_ids WHERE id = OLD.id AND tenant_id = OLD.tenant_id;
    RETURN OLD;
END
$$;
-- +goose StatementEnd

-- A generic plan of stock_drift's query cannot be distributed.
ALTER FUNCTION stock_drift() SET plan_cache_mode = force_custom_plan;

-- The definers that write beside the app role run on the tenant's worker, in the app's own
-- connection there (citus#3867): their first argument is the tenant (migration 00037).
SELECT create_distributed_function('erase_customer(uuid,uuid,uuid)', 'p_tenant', colocate_with => 'users', force_delegation => true);
SELECT create_distributed_function('close_tenant(uuid,uuid,interval)', 'p_tenant', colocate_with => 'users', force_delegation => true);
SELECT create_distributed_function('lock_stock(uuid,uuid[],uuid[])', 'p_tenant', colocate_with => 'users', force_delegation => true);

-- +goose Down
-- +goose StatementBegin
DO $$ BEGIN RAISE EXCEPTION 'citus: a distributed schema is not undone; restore from a backup'; END $$;
-- +goose StatementEnd
