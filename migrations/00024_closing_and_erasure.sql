-- +goose Up
-- Leaving for good, and being forgotten.
--
-- An owner closes the organization (close_tenant): everyone is signed out and, after a grace
-- period of at least a week, which an owner can end by reopening it, purge_tenant deletes
-- every row of the tenant in every table, its audit trail included, and keeps only a closure
-- record no tenant can read. The app role can cancel a closing, never shorten one: however it
-- is misused, a trail outlives its closing by a week.
--
-- A customer's personal data is erased on request by erase_customer, which also takes the
-- erased values out of the audit rows about it; the app role itself can neither change the
-- trail nor mark a customer erased.

CREATE TABLE tenant_closures (
    tenant_id    uuid        PRIMARY KEY REFERENCES tenants (id),
    requested_by uuid        NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    delete_after timestamptz NOT NULL,
    CHECK (delete_after >= requested_at + interval '7 days')
);
ALTER TABLE tenant_closures ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_closures FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_closures
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
GRANT SELECT, DELETE ON tenant_closures TO moat_app;
CREATE POLICY sweep ON tenant_closures FOR SELECT TO CURRENT_USER USING (true); -- due_closures reads every tenant's

-- What stays of a deleted organization.
CREATE TABLE closed_tenants (
    id         uuid        PRIMARY KEY,
    closed_at  timestamptz NOT NULL,
    closed_by  uuid        NOT NULL,
    deleted_at timestamptz NOT NULL DEFAULT now()
);

-- Set by purge_tenant alone, inside its transaction: the guards that keep finalized invoices
-- and the stock ledger from being deleted let the purge through. The app role inserts a
-- tenant's name, never this flag.
ALTER TABLE tenants ADD COLUMN purging boolean NOT NULL DEFAULT false;
REVOKE INSERT ON tenants FROM moat_app;
GRANT INSERT (id, name, created_at) ON tenants TO moat_app;

-- Marked by erase_customer alone: the app role updates every other column of a customer.
ALTER TABLE customers ADD COLUMN erased_at timestamptz, ADD COLUMN erased_by uuid;
REVOKE UPDATE ON customers FROM moat_app;
GRANT UPDATE (name, email, phone, company, created_by, created_at, updated_at, kind, number, emails, phones, website, tax_id,
    billing_address, shipping_address, currency, payment_terms, deleted_at, deleted_by, duplicates_checked) ON customers TO moat_app;

-- +goose StatementBegin
CREATE FUNCTION tenant_purging(p_tenant uuid) RETURNS boolean
    LANGUAGE sql STABLE SET search_path = pg_catalog, public
    AS $$ SELECT coalesce((SELECT purging FROM tenants WHERE id = p_tenant), false) $$;

CREATE OR REPLACE FUNCTION invoices_guard() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
BEGIN
    IF tenant_purging(OLD.tenant_id) THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW; -- its author's deletion clears created_by
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'invoice %: only drafts may be deleted', OLD.number USING ERRCODE = 'P0001';
        END IF;
        RETURN OLD;
    END IF;
    IF NEW.tenant_id <> OLD.tenant_id OR NEW.id <> OLD.id OR NEW.kind <> OLD.kind THEN
        RAISE EXCEPTION 'invoice %: its identity does not change', OLD.id USING ERRCODE = 'P0001';
    END IF;
    IF OLD.status = 'draft' THEN
        IF NEW.status NOT IN ('draft', 'open') THEN
            RAISE EXCEPTION 'invoice %: a draft can only be finalized', OLD.id USING ERRCODE = 'P0001';
        END IF;
        RETURN NEW;
    END IF;
    IF (NEW.customer_id, NEW.number, NEW.number_year, NEW.number_seq, NEW.currency, NEW.prices_include_tax, NEW.rounding,
        NEW.exchange_rate, NEW.payment_terms, NEW.issue_date, NEW.due_date, NEW.customer_name, NEW.customer_number,
        NEW.customer_address, NEW.customer_tax_id, NEW.seller_name, NEW.net_total, NEW.tax_total, NEW.total,
        NEW.credits_invoice_id, NEW.created_by, NEW.created_at, NEW.finalized_at)
       IS DISTINCT FROM
       (OLD.customer_id, OLD.number, OLD.number_year, OLD.number_seq, OLD.currency, OLD.prices_include_tax, OLD.rounding,
        OLD.exchange_rate, OLD.payment_terms, OLD.issue_date, OLD.due_date, OLD.customer_name, OLD.customer_number,
        OLD.customer_address, OLD.customer_tax_id, OLD.seller_name, OLD.net_total, OLD.tax_total, OLD.total,
        OLD.credits_invoice_id, OLD.created_by, OLD.created_at, OLD.finalized_at) THEN
        RAISE EXCEPTION 'invoice %: it is finalized and cannot change; issue a credit note', OLD.number USING ERRCODE = 'P0001';
    END IF;
    IF NEW.status <> OLD.status AND NOT (OLD.status, NEW.status) IN (
        ('open', 'paid'), ('open', 'void'), ('open', 'uncollectible'), ('uncollectible', 'paid'), ('uncollectible', 'void')) THEN
        RAISE EXCEPTION 'invoice %: it cannot go from % to %', OLD.number, OLD.status, NEW.status USING ERRCODE = 'P0001';
    END IF;
    IF NEW.amount_paid < OLD.amount_paid OR NEW.amount_credited < OLD.amount_credited THEN
        RAISE EXCEPTION 'invoice %: payments and credits are never taken back', OLD.number USING ERRCODE = 'P0001';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION invoice_lines_guard() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
DECLARE
    s text;
BEGIN
    IF TG_OP = 'DELETE' AND tenant_purging(OLD.tenant_id) THEN
        RETURN OLD;
    END IF;
    SELECT status INTO s FROM invoices WHERE tenant_id = coalesce(NEW.tenant_id, OLD.tenant_id) AND id = coalesce(NEW.invoice_id, OLD.invoice_id);
    -- A draft being deleted takes its lines with it (the cascade finds it gone).
    IF s IS DISTINCT FROM 'draft' AND NOT (TG_OP = 'DELETE' AND s IS NULL) THEN
        RAISE EXCEPTION 'invoice lines change only on drafts' USING ERRCODE = 'P0001';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION stock_ledger_frozen() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
BEGIN
    IF TG_OP = 'DELETE' AND tenant_purging(OLD.tenant_id) THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND tenant_purging(OLD.tenant_id) THEN
        RETURN NEW; -- its author's deletion clears created_by
    END IF;
    RAISE EXCEPTION 'stock movements are never changed or deleted: record a reversing movement' USING ERRCODE = 'P0001';
END
$$;

CREATE OR REPLACE FUNCTION stock_reserve() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.reserved := NEW.warehouse_id IS NOT NULL
            AND (SELECT kind = 'invoice' FROM invoices WHERE tenant_id = NEW.tenant_id AND id = NEW.invoice_id)
            AND NOT (SELECT allow_negative_stock FROM tenants WHERE id = NEW.tenant_id FOR SHARE);
        IF NEW.warehouse_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM products WHERE tenant_id = NEW.tenant_id AND id = NEW.product_id AND stocked) THEN
            RAISE EXCEPTION 'product %: a service has no stock', NEW.product_id USING ERRCODE = 'P0001';
        END IF;
        IF NEW.reserved THEN
            INSERT INTO stock_balances (tenant_id, product_id, warehouse_id) VALUES (NEW.tenant_id, NEW.product_id, NEW.warehouse_id)
                ON CONFLICT DO NOTHING;
            UPDATE stock_balances SET reserved = reserved + NEW.quantity
                WHERE tenant_id = NEW.tenant_id AND product_id = NEW.product_id AND warehouse_id = NEW.warehouse_id;
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND (NEW.invoice_id, NEW.product_id, NEW.warehouse_id, NEW.quantity, NEW.reserved) IS DISTINCT FROM
                            (OLD.invoice_id, OLD.product_id, OLD.warehouse_id, OLD.quantity, OLD.reserved) THEN
        RAISE EXCEPTION 'a line''s invoice, product, warehouse and quantity change by replacing the line' USING ERRCODE = 'P0001';
    END IF;
    IF TG_OP = 'DELETE' AND tenant_purging(OLD.tenant_id) THEN
        RETURN OLD; -- the balances go too
    END IF;
    IF TG_OP = 'DELETE' AND OLD.reserved THEN
        UPDATE stock_balances SET reserved = reserved - OLD.quantity
            WHERE tenant_id = OLD.tenant_id AND product_id = OLD.product_id AND warehouse_id = OLD.warehouse_id;
        RETURN OLD;
    END IF;
    RETURN coalesce(NEW, OLD);
END
$$;

-- purge_tenant deletes the tenant of the transaction, if it was closed and its grace period
-- is over: every row of every table with a tenant_id column (found in the catalog, so a new
-- table is covered without changing this), its sessions, the registry's ids, its queued jobs
-- and the accounts that belonged to it alone. The operators' record of cross-tenant attempts
-- stays: closing an organization does not erase its people's probing. It keeps the closure in
-- closed_tenants and answers whether it deleted anything.
CREATE FUNCTION purge_tenant() RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
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
$$;

-- close_tenant closes the tenant of the transaction on behalf of p_by, one of its owners: its
-- deletion is due after p_grace, or a week if that is longer. Its open invitations go, and
-- the tenant's row stays locked until the transaction ends, so a sign-in that records its
-- session meanwhile waits and then sees the closing.
CREATE FUNCTION close_tenant(p_by uuid, p_grace interval) RETURNS timestamptz
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
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
$$;

-- due_closures lists the organizations whose deletion is due, for the hourly sweep that makes
-- sure each is purged even when the job its closing scheduled was lost. Ids only.
CREATE FUNCTION due_closures() RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$ SELECT tenant_id FROM tenant_closures WHERE delete_after <= now() ORDER BY delete_after LIMIT 100 $$;

-- erase_customer erases the personal data of the customer p_id of the transaction's tenant,
-- for p_by: its name, contacts, addresses, website, tax id and notes are cleared and it is
-- marked erased; the trail's rows about it keep who, what, when and the outcome but their
-- details become {"erased": true}; the values an import replaced, the files of the imports
-- that wrote it and the organization's unexpired exports go too. A customer erased already is
-- left alone. It answers how many trail rows it cleared, or -1 when there was nothing to erase.
CREATE FUNCTION erase_customer(p_id uuid, p_by uuid) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
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
$$;
-- +goose StatementEnd

REVOKE ALL ON FUNCTION purge_tenant(), close_tenant(uuid, interval), erase_customer(uuid, uuid), due_closures() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION purge_tenant(), close_tenant(uuid, interval), erase_customer(uuid, uuid), due_closures() TO moat_app;
GRANT EXECUTE ON FUNCTION tenant_purging(uuid) TO moat_app;

-- +goose Down
-- The guards keep their purge check, and tenants its purging flag, which nothing sets then.
DROP FUNCTION due_closures();
DROP FUNCTION erase_customer(uuid, uuid);
DROP FUNCTION close_tenant(uuid, interval);
DROP FUNCTION purge_tenant();
ALTER TABLE customers DROP COLUMN erased_by, DROP COLUMN erased_at;
GRANT UPDATE ON customers TO moat_app;
GRANT INSERT ON tenants TO moat_app;
DROP TABLE closed_tenants;
DROP TABLE tenant_closures;
