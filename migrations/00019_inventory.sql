-- +goose Up
-- Inventory: products, warehouses, and a stock ledger that never oversells.
--
-- Every change to stock is a new row of stock_movements, which nobody changes or deletes. The
-- balance of each product in each warehouse (on hand, reserved, moving-average cost) is kept by
-- the triggers below, in the transaction of the movement or invoice line that changes it: the
-- app role cannot write a balance at all. Draft invoices' stocked lines reserve; finalizing
-- turns the reservation into outbound movements, voiding brings the goods back, and a credit
-- note that returns goods brings them back too. A balance whose available quantity (on hand
-- less reserved) would fall below zero is refused, unless the tenant allows negative stock.

-- Whether the tenant may sell what it does not have (then drafts reserve nothing).
ALTER TABLE tenants ADD COLUMN allow_negative_stock boolean NOT NULL DEFAULT false;

CREATE TABLE warehouses (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    is_default boolean     NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX warehouses_tenant_name ON warehouses (tenant_id, lower(name));
CREATE UNIQUE INDEX warehouses_tenant_default ON warehouses (tenant_id) WHERE is_default;

CREATE TABLE products (
    tenant_id     uuid          NOT NULL REFERENCES tenants (id),
    id            uuid          NOT NULL DEFAULT gen_random_uuid(),
    sku           text          NOT NULL CHECK (length(sku) BETWEEN 1 AND 64),
    name          text          NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    unit          text          NOT NULL DEFAULT 'pc' CHECK (length(unit) BETWEEN 1 AND 20),
    sale_price    numeric(19,4) NOT NULL DEFAULT 0 CHECK (sale_price >= 0),
    currency      text          NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    tax_rate      numeric(6,3)  NOT NULL DEFAULT 0 CHECK (tax_rate BETWEEN 0 AND 100),
    -- Goods are stocked; a service moves nothing.
    stocked       boolean       NOT NULL DEFAULT true,
    -- At or below this much available in all warehouses together, the product is low on stock.
    reorder_level numeric(18,4) NOT NULL DEFAULT 0 CHECK (reorder_level >= 0),
    description   text          NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    created_by    uuid,
    created_at    timestamptz   NOT NULL DEFAULT now(),
    updated_at    timestamptz   NOT NULL DEFAULT now(),
    deleted_at    timestamptz,
    PRIMARY KEY (tenant_id, id)
);
-- A SKU names one product outside the trash; a restore whose SKU was taken since is refused.
CREATE UNIQUE INDEX products_tenant_sku ON products (tenant_id, lower(sku)) WHERE deleted_at IS NULL;
-- The list's orders, each with the id as its tie-break.
CREATE INDEX products_tenant_name ON products (tenant_id, lower(name), id) WHERE deleted_at IS NULL;
CREATE INDEX products_tenant_sku_order ON products (tenant_id, lower(sku), id) WHERE deleted_at IS NULL;
CREATE INDEX products_tenant_updated ON products (tenant_id, updated_at, id) WHERE deleted_at IS NULL;

-- Products share the tenant's tags with customers; deleting a tag takes it off both.
CREATE TABLE product_tags (
    tenant_id  uuid NOT NULL,
    product_id uuid NOT NULL,
    tag_id     uuid NOT NULL,
    PRIMARY KEY (tenant_id, product_id, tag_id),
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, tag_id) REFERENCES tags (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX product_tags_tag ON product_tags (tenant_id, tag_id, product_id);

CREATE TABLE stock_balances (
    tenant_id    uuid          NOT NULL,
    product_id   uuid          NOT NULL,
    warehouse_id uuid          NOT NULL,
    -- numeric has NaN, which compares above every number: each column refuses it.
    on_hand      numeric(18,4) NOT NULL DEFAULT 0 CHECK (on_hand <> 'NaN'),
    reserved     numeric(18,4) NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <> 'NaN'),
    avg_cost     numeric(19,4) NOT NULL DEFAULT 0 CHECK (avg_cost >= 0 AND avg_cost <> 'NaN'),
    PRIMARY KEY (tenant_id, product_id, warehouse_id),
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id),
    FOREIGN KEY (tenant_id, warehouse_id) REFERENCES warehouses (tenant_id, id)
);
CREATE INDEX stock_balances_warehouse ON stock_balances (tenant_id, warehouse_id);

CREATE TABLE stock_movements (
    tenant_id      uuid          NOT NULL,
    id             uuid          NOT NULL DEFAULT gen_random_uuid(),
    product_id     uuid          NOT NULL,
    warehouse_id   uuid          NOT NULL,
    quantity       numeric(18,4) NOT NULL CHECK (quantity <> 0 AND quantity <> 'NaN'),
    -- What one unit is valued at: as received for goods coming in, the average cost at the
    -- time for goods going out (the trigger sets it).
    unit_cost      numeric(19,4) NOT NULL DEFAULT 0 CHECK (unit_cost >= 0 AND unit_cost <> 'NaN'),
    reason         text          NOT NULL CHECK (reason IN ('receipt', 'adjustment', 'count', 'transfer', 'sale', 'void', 'return', 'reversal')),
    note           text          NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    invoice_id     uuid,
    reverses_id    uuid,
    -- The two movements of a transfer share it.
    transfer_id    uuid,
    -- The day in UTC, as the app counts days: the session's time zone plays no part.
    occurred_on    date          NOT NULL DEFAULT (statement_timestamp() AT TIME ZONE 'UTC')::date,
    -- The balance after this movement, set by the trigger: the ledger reads as a statement.
    on_hand_after  numeric(18,4) NOT NULL DEFAULT 0,
    avg_cost_after numeric(19,4) NOT NULL DEFAULT 0,
    created_by     uuid,
    created_at     timestamptz   NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id),
    FOREIGN KEY (tenant_id, warehouse_id) REFERENCES warehouses (tenant_id, id),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id),
    FOREIGN KEY (tenant_id, reverses_id) REFERENCES stock_movements (tenant_id, id),
    -- A correction by hand says why.
    CHECK (reason NOT IN ('adjustment', 'count', 'reversal') OR note <> ''),
    CHECK ((reason IN ('sale', 'void', 'return')) = (invoice_id IS NOT NULL)),
    CHECK ((reason = 'reversal') = (reverses_id IS NOT NULL)),
    CHECK ((reason = 'transfer') = (transfer_id IS NOT NULL))
);
-- Drafts, which stock_drift reads the reserving lines of.
CREATE INDEX invoices_tenant_drafts ON invoices (tenant_id, id) WHERE status = 'draft';
CREATE INDEX stock_movements_product ON stock_movements (tenant_id, product_id, occurred_on DESC, created_at DESC, id);
CREATE INDEX stock_movements_invoice ON stock_movements (tenant_id, invoice_id) WHERE invoice_id IS NOT NULL;
CREATE UNIQUE INDEX stock_movements_reversed_once ON stock_movements (tenant_id, reverses_id) WHERE reverses_id IS NOT NULL;

-- An invoice line may be for a product; with a warehouse, it moves stock. reserved says whether
-- the line holds a reservation (set by the trigger, whatever a statement says).
ALTER TABLE invoice_lines
    ADD COLUMN product_id   uuid,
    ADD COLUMN warehouse_id uuid,
    ADD COLUMN reserved     boolean NOT NULL DEFAULT false,
    ADD FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id),
    ADD FOREIGN KEY (tenant_id, warehouse_id) REFERENCES warehouses (tenant_id, id),
    ADD CHECK (warehouse_id IS NULL OR product_id IS NOT NULL);

-- +goose StatementBegin
-- stock_balance_guard refuses a balance whose available quantity falls below zero, unless the
-- tenant allows negative stock. A change that leaves it no lower is let through (a receipt into
-- negative stock, say), as is any change to a tenant that allows it.
CREATE FUNCTION stock_balance_guard() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
BEGIN
    IF NEW.on_hand - NEW.reserved < 0 AND NEW.on_hand - NEW.reserved < OLD.on_hand - OLD.reserved
       AND NOT (SELECT allow_negative_stock FROM tenants WHERE id = NEW.tenant_id) THEN
        RAISE EXCEPTION 'stock of product % in warehouse %: only % available', NEW.product_id, NEW.warehouse_id, OLD.on_hand - OLD.reserved
            USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_available';
    END IF;
    RETURN NEW;
END
$$;

-- stock_move applies a new movement to its balance, under the balance's row lock: it refuses a
-- product that is not stocked and a date before the product's latest movement, values goods
-- going out at the average cost, works out the new moving average for goods coming in, and
-- records the balance after (a reversal of a receipt takes the goods out at their cost, and the
-- average back to what it was without them). It runs as the owner, under the same row level security, because
-- the app role may not write balances.
CREATE FUNCTION stock_move() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
DECLARE
    b stock_balances;
    latest date;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM products WHERE tenant_id = NEW.tenant_id AND id = NEW.product_id AND stocked) THEN
        RAISE EXCEPTION 'product %: a service has no stock', NEW.product_id USING ERRCODE = 'P0001';
    END IF;
    INSERT INTO stock_balances (tenant_id, product_id, warehouse_id) VALUES (NEW.tenant_id, NEW.product_id, NEW.warehouse_id)
        ON CONFLICT DO NOTHING;
    SELECT * INTO STRICT b FROM stock_balances
        WHERE tenant_id = NEW.tenant_id AND product_id = NEW.product_id AND warehouse_id = NEW.warehouse_id FOR UPDATE;
    SELECT max(occurred_on) INTO latest FROM stock_movements WHERE tenant_id = NEW.tenant_id AND product_id = NEW.product_id;
    IF NEW.occurred_on < latest THEN
        RAISE EXCEPTION 'product %: a movement may not be dated before its latest one (%)', NEW.product_id, latest
            USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_back_dated';
    END IF;
    IF NEW.quantity < 0 AND NEW.reason = 'reversal' AND b.on_hand + NEW.quantity > 0
       AND b.on_hand * b.avg_cost + NEW.quantity * NEW.unit_cost >= 0
       AND (b.on_hand * b.avg_cost + NEW.quantity * NEW.unit_cost) / (b.on_hand + NEW.quantity) <= greatest(b.avg_cost, NEW.unit_cost) THEN
        -- A receipt undone leaves at what it came in at, and the average is as if it never came;
        -- when goods have left since and that would value the rest oddly, it leaves at the
        -- average like any other outbound movement.
        NEW.avg_cost_after := round((b.on_hand * b.avg_cost + NEW.quantity * NEW.unit_cost) / (b.on_hand + NEW.quantity), 4);
    ELSIF NEW.quantity < 0 THEN
        NEW.unit_cost := b.avg_cost;
        NEW.avg_cost_after := b.avg_cost;
    ELSIF b.on_hand <= 0 THEN
        NEW.avg_cost_after := NEW.unit_cost;
    ELSE
        NEW.avg_cost_after := round((b.on_hand * b.avg_cost + NEW.quantity * NEW.unit_cost) / (b.on_hand + NEW.quantity), 4);
    END IF;
    NEW.on_hand_after := b.on_hand + NEW.quantity;
    UPDATE stock_balances SET on_hand = NEW.on_hand_after, avg_cost = NEW.avg_cost_after
        WHERE tenant_id = NEW.tenant_id AND product_id = NEW.product_id AND warehouse_id = NEW.warehouse_id;
    RETURN NEW;
END
$$;

-- lock_stock locks the tenant's balances of the given (product, warehouse) pairs of stocked
-- products, creating the missing ones, always in the same order, and returns them. A request
-- that will reserve or take stock calls it first: it then checks what is available knowing
-- nobody else can change it, and two requests never wait for each other's locks in a circle.
CREATE FUNCTION lock_stock(products uuid[], warehouses uuid[]) RETURNS SETOF stock_balances
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
BEGIN
    INSERT INTO stock_balances (tenant_id, product_id, warehouse_id)
        SELECT current_tenant_id(), u.p, u.w FROM unnest(products, warehouses) AS u(p, w)
        JOIN products pr ON pr.tenant_id = current_tenant_id() AND pr.id = u.p AND pr.stocked
        ORDER BY u.p, u.w ON CONFLICT DO NOTHING;
    RETURN QUERY SELECT b.* FROM stock_balances b
        WHERE b.tenant_id = current_tenant_id() AND (b.product_id, b.warehouse_id) IN (SELECT * FROM unnest(products, warehouses))
        ORDER BY b.product_id, b.warehouse_id FOR UPDATE;
END
$$;

-- stock_ledger_frozen keeps the ledger append-only, for every role: a correction is a new,
-- reversing movement.
CREATE FUNCTION stock_ledger_frozen() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
BEGIN
    RAISE EXCEPTION 'stock movements are never changed or deleted: record a reversing movement' USING ERRCODE = 'P0001';
END
$$;

-- stock_reserve keeps each balance's reserved quantity equal to what the tenant's draft
-- invoices' stocked lines ask for: a line added to a draft reserves (unless the tenant allows
-- negative stock), and a line removed, with its draft or alone, releases what it reserved.
-- Lines change only on drafts (invoice_lines_guard), so every reserving line is a draft's.
CREATE FUNCTION stock_reserve() RETURNS trigger
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
    IF TG_OP = 'DELETE' AND OLD.reserved THEN
        UPDATE stock_balances SET reserved = reserved - OLD.quantity
            WHERE tenant_id = OLD.tenant_id AND product_id = OLD.product_id AND warehouse_id = OLD.warehouse_id;
        RETURN OLD;
    END IF;
    RETURN coalesce(NEW, OLD);
END
$$;

-- stock_invoice moves the stock of a document whose status moves: an invoice finalized takes
-- its stocked lines out on its issue date (releasing what they reserved), one voided brings back
-- what it took at the cost it took it at, and a credit note finalized brings back the goods its
-- lines return. The movements name the person the app says acts (moat.actor, set in the same
-- transaction), or else the document's author.
CREATE FUNCTION stock_invoice() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
DECLARE
    l record;
    actor uuid := coalesce(nullif(current_setting('moat.actor', true), '')::uuid, NEW.created_by);
BEGIN
    IF OLD.status = 'draft' AND NEW.status <> 'draft' THEN
        -- In a fixed order, so two finalizations lock balances alike and never deadlock.
        FOR l IN SELECT * FROM invoice_lines WHERE tenant_id = NEW.tenant_id AND invoice_id = NEW.id AND warehouse_id IS NOT NULL
                 ORDER BY product_id, warehouse_id, position LOOP
            IF l.reserved THEN
                UPDATE stock_balances SET reserved = reserved - l.quantity
                    WHERE tenant_id = l.tenant_id AND product_id = l.product_id AND warehouse_id = l.warehouse_id;
            END IF;
            IF NEW.kind = 'invoice' THEN
                INSERT INTO stock_movements (tenant_id, product_id, warehouse_id, quantity, reason, invoice_id, occurred_on, created_by)
                    VALUES (l.tenant_id, l.product_id, l.warehouse_id, -l.quantity, 'sale', NEW.id, NEW.issue_date, actor);
            ELSE
                -- At what the goods left at, when the credited invoice took them.
                INSERT INTO stock_movements (tenant_id, product_id, warehouse_id, quantity, unit_cost, reason, invoice_id, occurred_on, created_by)
                    VALUES (l.tenant_id, l.product_id, l.warehouse_id, l.quantity, coalesce((
                        SELECT max(m.unit_cost) FROM stock_movements m WHERE m.tenant_id = l.tenant_id AND m.invoice_id = NEW.credits_invoice_id
                           AND m.product_id = l.product_id AND m.reason = 'sale'), (
                        SELECT avg_cost FROM stock_balances b WHERE b.tenant_id = l.tenant_id AND b.product_id = l.product_id
                           AND b.warehouse_id = l.warehouse_id), 0), 'return', NEW.id, NEW.issue_date, actor);
            END IF;
        END LOOP;
    ELSIF NEW.status = 'void' AND OLD.status <> 'void' THEN
        FOR l IN SELECT * FROM stock_movements WHERE tenant_id = NEW.tenant_id AND invoice_id = NEW.id AND reason = 'sale'
                 ORDER BY product_id, warehouse_id, created_at LOOP
            INSERT INTO stock_movements (tenant_id, product_id, warehouse_id, quantity, unit_cost, reason, invoice_id, occurred_on, created_by)
                VALUES (l.tenant_id, l.product_id, l.warehouse_id, -l.quantity, l.unit_cost, 'void', NEW.id,
                        (coalesce(NEW.voided_at, statement_timestamp()) AT TIME ZONE 'UTC')::date, actor);
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;

-- products_guard keeps a product stocked or not once it has movements or lines that move it:
-- its stock would otherwise be left behind.
CREATE FUNCTION products_guard() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
BEGIN
    IF NEW.tenant_id <> OLD.tenant_id OR NEW.id <> OLD.id THEN
        RAISE EXCEPTION 'product %: its identity does not change', OLD.id USING ERRCODE = 'P0001';
    END IF;
    IF NEW.stocked <> OLD.stocked AND (
        EXISTS (SELECT 1 FROM stock_movements WHERE tenant_id = OLD.tenant_id AND product_id = OLD.id) OR
        EXISTS (SELECT 1 FROM invoice_lines WHERE tenant_id = OLD.tenant_id AND product_id = OLD.id AND warehouse_id IS NOT NULL)) THEN
        RAISE EXCEPTION 'product %: it has stock records, so it stays stocked', OLD.id USING ERRCODE = 'P0001';
    END IF;
    RETURN NEW;
END
$$;

-- stock_drift counts the balances that differ from their ledger or from their drafts' lines,
-- in every tenant, a tenant at a time under its own row level security (the owner reads no
-- tenant's rows without naming it). It answers a number only, for moat check and /readyz: no
-- tenant's ids leave it.
CREATE FUNCTION stock_drift() RETURNS bigint
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

CREATE TRIGGER stock_balance_guard BEFORE UPDATE ON stock_balances FOR EACH ROW EXECUTE FUNCTION stock_balance_guard();
CREATE TRIGGER stock_move BEFORE INSERT ON stock_movements FOR EACH ROW EXECUTE FUNCTION stock_move();
CREATE TRIGGER stock_ledger_frozen BEFORE UPDATE OR DELETE ON stock_movements FOR EACH ROW EXECUTE FUNCTION stock_ledger_frozen();
CREATE TRIGGER stock_ledger_not_truncated BEFORE TRUNCATE ON stock_movements FOR EACH STATEMENT EXECUTE FUNCTION stock_ledger_frozen();
-- After invoice_lines_guard (alphabetical order), so a line is reserved only once allowed.
CREATE TRIGGER invoice_lines_stock BEFORE INSERT OR UPDATE OR DELETE ON invoice_lines FOR EACH ROW EXECUTE FUNCTION stock_reserve();
CREATE TRIGGER invoices_stock AFTER UPDATE OF status ON invoices FOR EACH ROW EXECUTE FUNCTION stock_invoice();
CREATE TRIGGER products_guard BEFORE UPDATE ON products FOR EACH ROW EXECUTE FUNCTION products_guard();
CREATE TRIGGER products_record_ids AFTER INSERT OR DELETE ON products FOR EACH ROW EXECUTE FUNCTION register_record_id();
CREATE TRIGGER warehouses_record_ids AFTER INSERT OR DELETE ON warehouses FOR EACH ROW EXECUTE FUNCTION register_record_id();
CREATE TRIGGER stock_movements_record_ids AFTER INSERT ON stock_movements FOR EACH ROW EXECUTE FUNCTION register_record_id();

ALTER TABLE warehouses ENABLE ROW LEVEL SECURITY;
ALTER TABLE warehouses FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON warehouses
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
ALTER TABLE products ENABLE ROW LEVEL SECURITY;
ALTER TABLE products FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON products
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
ALTER TABLE product_tags ENABLE ROW LEVEL SECURITY;
ALTER TABLE product_tags FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON product_tags
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
ALTER TABLE stock_balances ENABLE ROW LEVEL SECURITY;
ALTER TABLE stock_balances FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON stock_balances
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
ALTER TABLE stock_movements ENABLE ROW LEVEL SECURITY;
ALTER TABLE stock_movements FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON stock_movements
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());

-- Every tenant starts with a default warehouse (sign-up makes one for a new tenant).
ALTER TABLE warehouses NO FORCE ROW LEVEL SECURITY;
INSERT INTO warehouses (tenant_id, name, is_default) SELECT id, 'Main warehouse', true FROM tenants;
ALTER TABLE warehouses FORCE ROW LEVEL SECURITY;

GRANT SELECT, INSERT, UPDATE ON warehouses, products TO moat_app;
GRANT SELECT, INSERT, DELETE ON product_tags TO moat_app;
-- Balances are the triggers' to write; the ledger is added to, never changed.
GRANT SELECT ON stock_balances TO moat_app;
GRANT SELECT, INSERT ON stock_movements TO moat_app;
GRANT UPDATE (allow_negative_stock) ON tenants TO moat_app;
REVOKE ALL ON FUNCTION stock_drift(), lock_stock(uuid[], uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stock_drift(), lock_stock(uuid[], uuid[]) TO moat_app;

-- +goose Down
REVOKE UPDATE (allow_negative_stock) ON tenants FROM moat_app;
DROP TRIGGER invoices_stock ON invoices;
DROP TRIGGER invoice_lines_stock ON invoice_lines;
ALTER TABLE invoice_lines DROP COLUMN reserved, DROP COLUMN warehouse_id, DROP COLUMN product_id;
DELETE FROM record_ids WHERE entity IN ('products', 'warehouses', 'stock_movements');
DROP TABLE stock_movements;
DROP INDEX invoices_tenant_drafts;
DROP TABLE stock_balances;
DROP TABLE product_tags;
DROP TABLE products;
DROP TABLE warehouses;
DROP FUNCTION stock_drift();
DROP FUNCTION products_guard();
DROP FUNCTION stock_invoice();
DROP FUNCTION stock_reserve();
DROP FUNCTION stock_ledger_frozen();
DROP FUNCTION lock_stock(uuid[], uuid[]);
DROP FUNCTION stock_move();
DROP FUNCTION stock_balance_guard();
ALTER TABLE tenants DROP COLUMN allow_negative_stock;
