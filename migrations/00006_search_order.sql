-- +goose Up
-- A page of search results is ordered by name. Keeping each customer's sort key beside its
-- words lets search pick the page's 26 customers from the terms index alone, and fetch only
-- those, however many customers a common word matches.
ALTER TABLE customer_terms ADD COLUMN sort_key text NOT NULL DEFAULT '';

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION index_customer_terms() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.name, NEW.email, NEW.company) IS NOT DISTINCT FROM (OLD.name, OLD.email, OLD.company) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM customer_terms WHERE tenant_id = OLD.tenant_id AND customer_id = OLD.id;
    END IF;
    INSERT INTO customer_terms (tenant_id, customer_id, term, sort_key)
        SELECT NEW.tenant_id, NEW.id, w, lower(NEW.name) FROM customer_words(NEW.name, NEW.email, NEW.company) w
        ON CONFLICT DO NOTHING;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

ALTER TABLE customers NO FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_terms NO FORCE ROW LEVEL SECURITY;
UPDATE customer_terms t SET sort_key = lower(c.name) FROM customers c WHERE c.tenant_id = t.tenant_id AND c.id = t.customer_id;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_terms FORCE ROW LEVEL SECURITY;

DROP INDEX customer_terms_prefix;
CREATE INDEX customer_terms_prefix ON customer_terms (tenant_id, term text_pattern_ops, sort_key, customer_id);
GRANT UPDATE ON customer_terms TO moat_app;

-- +goose Down
REVOKE UPDATE ON customer_terms FROM moat_app;
DROP INDEX customer_terms_prefix;
CREATE INDEX customer_terms_prefix ON customer_terms (tenant_id, term text_pattern_ops, customer_id);
ALTER TABLE customer_terms DROP COLUMN sort_key;
