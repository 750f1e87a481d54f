-- +goose Up
-- Search without the row level security trap: PostgreSQL will not use an index for ILIKE
-- under RLS (its operator is not LEAKPROOF), so a search of a large tenant read every row.
-- Each customer's words (of name, email and company, lower-cased) are kept here, and search
-- matches word prefixes with text_pattern_ops range comparisons, which are LEAKPROOF and use
-- the index. Led by tenant_id like every other index.
CREATE TABLE customer_terms (
    tenant_id   uuid NOT NULL,
    customer_id uuid NOT NULL,
    term        text NOT NULL,
    PRIMARY KEY (tenant_id, term, customer_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX customer_terms_prefix ON customer_terms (tenant_id, term text_pattern_ops, customer_id);

ALTER TABLE customer_terms ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_terms FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_terms
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());

-- +goose StatementBegin
-- customer_words are the search terms of one customer: every run of letters and digits of
-- its name, email and company, and the whole email.
CREATE FUNCTION customer_words(name text, email text, company text) RETURNS SETOF text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT DISTINCT left(w, 100) FROM (
            SELECT regexp_split_to_table(lower(name || ' ' || email || ' ' || company), '[^[:alnum:]]+') AS w
            UNION ALL SELECT lower(email)
        ) words WHERE w <> ''
    $$;

CREATE FUNCTION index_customer_terms() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.name, NEW.email, NEW.company) IS NOT DISTINCT FROM (OLD.name, OLD.email, OLD.company) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM customer_terms WHERE tenant_id = OLD.tenant_id AND customer_id = OLD.id;
    END IF;
    INSERT INTO customer_terms (tenant_id, customer_id, term)
        SELECT NEW.tenant_id, NEW.id, w FROM customer_words(NEW.name, NEW.email, NEW.company) w
        ON CONFLICT DO NOTHING;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER customers_terms AFTER INSERT OR UPDATE ON customers
    FOR EACH ROW EXECUTE FUNCTION index_customer_terms();

-- Backfill across tenants: the owner lifts FORCE inside this migration's transaction only.
ALTER TABLE customers NO FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_terms NO FORCE ROW LEVEL SECURITY;
INSERT INTO customer_terms (tenant_id, customer_id, term)
    SELECT c.tenant_id, c.id, w FROM customers c, customer_words(c.name, c.email, c.company) w
    ON CONFLICT DO NOTHING;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_terms FORCE ROW LEVEL SECURITY;

GRANT SELECT, INSERT, DELETE ON customer_terms TO moat_app;
GRANT EXECUTE ON FUNCTION customer_words(text, text, text), index_customer_terms() TO moat_app;

-- +goose Down
DROP TRIGGER customers_terms ON customers;
DROP FUNCTION index_customer_terms();
DROP FUNCTION customer_words(text, text, text);
DROP TABLE customer_terms;
