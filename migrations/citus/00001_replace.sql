-- Moat on Citus, step 1 of 2 (docs/citus.md): what Citus cannot run as it is, replaced while
-- every table is still local, in a transaction of its own. Changed after the distribution, with
-- rows copied, the functions' propagation to the workers deadlocked with the step's own
-- connections there ("canceling the transaction since it was involved in a distributed
-- deadlock"). Each statement can run again: `moat migrate` runs both steps until the second
-- has committed. On plain PostgreSQL all of it does the same work as what it replaces.
-- +goose Up
-- users_clear_authors does what the authors' ON DELETE SET NULL did (see the foreign keys below).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION users_clear_authors() RETURNS trigger
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
DROP TRIGGER IF EXISTS users_clear_authors ON users;
CREATE TRIGGER users_clear_authors AFTER DELETE ON users FOR EACH ROW EXECUTE FUNCTION users_clear_authors();

-- Statement triggers with transition tables fail on the shards ("could not find named
-- tuplestore"): the same work a row at a time.
DROP TRIGGER IF EXISTS customers_count_insert ON customers;
DROP TRIGGER IF EXISTS customers_count_update ON customers;
DROP TRIGGER IF EXISTS customers_count_delete ON customers;
DROP TRIGGER IF EXISTS customers_count ON customers;
DROP TRIGGER IF EXISTS customers_forget_duplicates ON customers;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION count_live_customers() RETURNS trigger
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
CREATE OR REPLACE FUNCTION forget_duplicates() RETURNS trigger
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

-- Functions made before the citus extension, as when one node is taken to many, are on the
-- coordinator alone, and a trigger on a shard that calls one fails there ("function
-- customer_words(text, text, text) does not exist"). Citus sends a function made after the
-- extension to the workers by itself; these are sent now, while no shard is there to deadlock
-- with, as they stand after the replacements above. One that takes or returns a table's rows
-- waits for its table to be distributed, in step 2 (lock_stock); TestOneNodeTakenToManyKeepsWorking
-- finds any left off the workers. A SQL function's body is checked where it is made, and some
-- read tables that stay on the coordinator: not checked on the workers.
SET LOCAL citus.propagate_set_commands = local;
SET LOCAL check_function_bodies = off;
SELECT create_distributed_function(p.oid::regprocedure)
FROM pg_proc p
WHERE p.pronamespace = 'public'::regnamespace
  AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_object o WHERE o.classid = 'pg_proc'::regclass AND o.objid = p.oid)
  AND NOT EXISTS (SELECT 1 FROM pg_depend r JOIN pg_type ty ON ty.oid = r.refobjid
                  WHERE r.classid = 'pg_proc'::regclass AND r.objid = p.oid AND r.refclassid = 'pg_type'::regclass AND ty.typrelid <> 0)
ORDER BY p.oid;

-- +goose Down
-- +goose StatementBegin
DO $$ BEGIN RAISE EXCEPTION 'citus: a distributed schema is not undone; restore from a backup'; END $$;
-- +goose StatementEnd
