-- Moat on Citus, step 2 of 2: shard the migrated schema by tenant. `moat migrate` runs this
-- once, in one transaction, on a coordinator whose database has the citus extension
-- (docs/citus.md), after the numbered migrations and step 1. Each change says what Citus
-- refused without it. The app role must
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

-- The definers that write beside the app role run on the tenant's worker, in the app's own
-- connection there (citus#3867): their first argument is the tenant (migration 00037).
SELECT create_distributed_function('erase_customer(uuid,uuid,uuid)', 'p_tenant', colocate_with => 'users', force_delegation => true);
SELECT create_distributed_function('close_tenant(uuid,uuid,interval)', 'p_tenant', colocate_with => 'users', force_delegation => true);
SELECT create_distributed_function('lock_stock(uuid,uuid[],uuid[])', 'p_tenant', colocate_with => 'users', force_delegation => true);

-- +goose Down
-- +goose StatementBegin
DO $$ BEGIN RAISE EXCEPTION 'citus: a distributed schema is not undone; restore from a backup'; END $$;
-- +goose StatementEnd
