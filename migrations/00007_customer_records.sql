-- +goose Up
-- The full customer record: company or person, a number unique in the tenant, typed emails
-- and phones, tax id, addresses, invoicing defaults; tags; notes in a timeline; a trash.
-- pg_trgm is a trusted extension: the database owner may create it. It gives the duplicate
-- check its name similarity.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE customers
    ADD COLUMN kind             text        NOT NULL DEFAULT 'company' CHECK (kind IN ('company', 'person')),
    ADD COLUMN number           text        CHECK (length(number) BETWEEN 1 AND 30),
    -- Every email and phone, each {"type": ..., "value": ...}; email and phone keep the first,
    -- for the list and its sort.
    ADD COLUMN emails           jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(emails) = 'array' AND jsonb_array_length(emails) <= 10),
    ADD COLUMN phones           jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(phones) = 'array' AND jsonb_array_length(phones) <= 10),
    ADD COLUMN website          text        NOT NULL DEFAULT '' CHECK (length(website) <= 300),
    ADD COLUMN tax_id           text        NOT NULL DEFAULT '' CHECK (length(tax_id) <= 50),
    ADD COLUMN billing_address  text        NOT NULL DEFAULT '' CHECK (length(billing_address) <= 1000),
    ADD COLUMN shipping_address text        NOT NULL DEFAULT '' CHECK (length(shipping_address) <= 1000),
    ADD COLUMN currency         text        NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
    ADD COLUMN payment_terms    integer     NOT NULL DEFAULT 30 CHECK (payment_terms BETWEEN 0 AND 365),
    -- In the trash since deleted_at, put there by deleted_by; NULL when not.
    ADD COLUMN deleted_at       timestamptz,
    ADD COLUMN deleted_by       uuid,
    ADD FOREIGN KEY (tenant_id, deleted_by) REFERENCES users (tenant_id, id) ON DELETE SET NULL (deleted_by);

-- Customer numbers: C-00001, C-00002, ... a counter per tenant, used when a number is left blank.
CREATE TABLE customer_counters (
    tenant_id uuid   PRIMARY KEY REFERENCES tenants (id),
    last      bigint NOT NULL
);

-- The notes column becomes the first note of each customer's timeline.
CREATE TABLE customer_notes (
    tenant_id   uuid        NOT NULL,
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    customer_id uuid        NOT NULL,
    body        text        NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    created_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, created_by) REFERENCES users (tenant_id, id) ON DELETE SET NULL (created_by)
);
CREATE INDEX customer_notes_customer ON customer_notes (tenant_id, customer_id, created_at DESC);

-- Tags: per tenant, coloured; the foreign keys carry tenant_id, so a customer can only carry
-- its own tenant's tags whatever ids a request names.
CREATE TABLE tags (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
    color      text        NOT NULL CHECK (color IN ('slate', 'red', 'amber', 'green', 'teal', 'blue', 'violet', 'pink')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX tags_tenant_name ON tags (tenant_id, lower(name));

CREATE TABLE customer_tags (
    tenant_id   uuid NOT NULL,
    customer_id uuid NOT NULL,
    tag_id      uuid NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, tag_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, tag_id) REFERENCES tags (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX customer_tags_tag ON customer_tags (tenant_id, tag_id, customer_id);

-- Which list columns each person chose.
CREATE TABLE user_settings (
    tenant_id        uuid   NOT NULL,
    user_id          uuid   NOT NULL,
    customer_columns jsonb  NOT NULL CHECK (jsonb_typeof(customer_columns) = 'array'),
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- +goose StatementBegin
-- Gives a customer inserted without a number the tenant's next free one. Runs as the caller,
-- under row level security: it sees, counts and checks only the caller's tenant.
CREATE FUNCTION assign_customer_number() RETURNS trigger
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
        EXIT WHEN NOT EXISTS (SELECT 1 FROM customers WHERE tenant_id = NEW.tenant_id AND lower(number) = lower(NEW.number));
    END LOOP;
    RETURN NEW;
END
$$;

-- Trashed customers leave search: their terms go when they are trashed and come back when
-- they are restored; a rename re-indexes.
CREATE OR REPLACE FUNCTION index_customer_terms() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.name, NEW.email, NEW.company, NEW.deleted_at IS NULL) IS NOT DISTINCT FROM (OLD.name, OLD.email, OLD.company, OLD.deleted_at IS NULL) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM customer_terms WHERE tenant_id = OLD.tenant_id AND customer_id = OLD.id;
    END IF;
    IF NEW.deleted_at IS NULL THEN
        INSERT INTO customer_terms (tenant_id, customer_id, term, sort_key)
            SELECT NEW.tenant_id, NEW.id, w, lower(NEW.name) FROM customer_words(NEW.name, NEW.email, NEW.company) w
            ON CONFLICT DO NOTHING;
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER customers_number BEFORE INSERT ON customers
    FOR EACH ROW EXECUTE FUNCTION assign_customer_number();
CREATE TRIGGER tags_record_ids AFTER INSERT OR DELETE ON tags
    FOR EACH ROW EXECUTE FUNCTION register_record_id();

-- Backfill across tenants: the owner lifts FORCE inside this migration's transaction only.
ALTER TABLE customers NO FORCE ROW LEVEL SECURITY;
UPDATE customers c SET number = 'C-' || lpad(n::text, greatest(5, length(n::text)), '0')
    FROM (SELECT tenant_id, id, row_number() OVER (PARTITION BY tenant_id ORDER BY created_at, id) AS n FROM customers) o
    WHERE c.tenant_id = o.tenant_id AND c.id = o.id;
UPDATE customers SET emails = jsonb_build_array(jsonb_build_object('type', 'work', 'value', email)) WHERE email <> '';
UPDATE customers SET phones = jsonb_build_array(jsonb_build_object('type', 'work', 'value', phone)) WHERE phone <> '';
INSERT INTO customer_counters (tenant_id, last) SELECT tenant_id, count(*) FROM customers GROUP BY tenant_id;
INSERT INTO customer_notes (tenant_id, customer_id, body, created_by, created_at)
    SELECT tenant_id, id, notes, created_by, updated_at FROM customers WHERE notes <> '';
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
ALTER TABLE customers DROP COLUMN notes;
ALTER TABLE customers ALTER COLUMN number SET NOT NULL;

CREATE UNIQUE INDEX customers_tenant_number ON customers (tenant_id, lower(number));
-- The list's other sort orders, each with the id as its tie-break for keyset paging.
CREATE INDEX customers_tenant_created ON customers (tenant_id, created_at, id);
CREATE INDEX customers_tenant_email ON customers (tenant_id, lower(email), id);
CREATE INDEX customers_tenant_company ON customers (tenant_id, lower(company), id);

ALTER TABLE customer_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_counters FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_counters
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
ALTER TABLE customer_notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_notes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_notes
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
ALTER TABLE tags ENABLE ROW LEVEL SECURITY;
ALTER TABLE tags FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tags
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
ALTER TABLE customer_tags ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_tags FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_tags
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
ALTER TABLE user_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON user_settings
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());

-- Notes are part of the record's history: the app adds them and never edits them.
GRANT SELECT, INSERT, UPDATE ON customer_counters TO moat_app;
GRANT SELECT, INSERT ON customer_notes TO moat_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON tags, customer_tags, user_settings TO moat_app;
GRANT EXECUTE ON FUNCTION assign_customer_number() TO moat_app;

-- +goose Down
DROP TRIGGER tags_record_ids ON tags;
DELETE FROM record_ids WHERE entity = 'tags';
DROP TRIGGER customers_number ON customers;
DROP FUNCTION assign_customer_number();
DROP TABLE user_settings;
DROP TABLE customer_tags;
DROP TABLE tags;
ALTER TABLE customers ADD COLUMN notes text NOT NULL DEFAULT '' CHECK (length(notes) <= 5000);
DROP TABLE customer_notes;
DROP TABLE customer_counters;
DROP INDEX customers_tenant_company;
DROP INDEX customers_tenant_email;
DROP INDEX customers_tenant_created;
DROP INDEX customers_tenant_number;
ALTER TABLE customers
    DROP COLUMN deleted_by, DROP COLUMN deleted_at, DROP COLUMN payment_terms, DROP COLUMN currency,
    DROP COLUMN shipping_address, DROP COLUMN billing_address, DROP COLUMN tax_id, DROP COLUMN website,
    DROP COLUMN phones, DROP COLUMN emails, DROP COLUMN number, DROP COLUMN kind;
