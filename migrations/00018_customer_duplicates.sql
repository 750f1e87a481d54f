-- +goose Up
-- The customer page looked for possible duplicates (same email, same tax id, similar name) on
-- every view: the trigram comparison was nine tenths of the page's database time. Whether two
-- customers look alike depends on those two only, so it is worked out when either is written
-- and kept here, both ways round; the page reads it. Customers written before this have
-- duplicates_checked false and are compared on their first view instead.
CREATE TABLE customer_duplicates (
    tenant_id    uuid    NOT NULL,
    customer_id  uuid    NOT NULL,
    other_id     uuid    NOT NULL,
    same_email   boolean NOT NULL,
    same_tax_id  boolean NOT NULL,
    similar_name boolean NOT NULL,
    score        real    NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, other_id),
    CHECK (customer_id <> other_id)
);
CREATE INDEX customer_duplicates_other ON customer_duplicates (tenant_id, other_id);

-- No foreign keys to customers: each would lock the customer it names (FOR KEY SHARE), and
-- look-alikes are by nature named by many customers at once; a hundred concurrent creates of
-- similar names queued on those locks' MultiXacts for seconds. Pairs go with either customer
-- through this trigger instead, and the page joins them to customers, which row level
-- security filters, so a pair can never show another tenant's customer; one kept by a create
-- racing the other customer's purge names nobody, and the join drops it.
-- +goose StatementBegin
CREATE FUNCTION forget_duplicates() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
BEGIN
    DELETE FROM customer_duplicates d USING old_rows o
        WHERE d.tenant_id = o.tenant_id AND (d.customer_id = o.id OR d.other_id = o.id);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER customers_forget_duplicates AFTER DELETE ON customers
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION forget_duplicates();

ALTER TABLE customer_duplicates ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_duplicates FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_duplicates
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
-- UPDATE only so the rows can be locked (FOR UPDATE) before an edit replaces them.
GRANT SELECT, INSERT, UPDATE, DELETE ON customer_duplicates TO moat_app;

ALTER TABLE customers ADD COLUMN duplicates_checked boolean NOT NULL DEFAULT false;

-- +goose Down
DROP TRIGGER customers_forget_duplicates ON customers;
DROP FUNCTION forget_duplicates();
ALTER TABLE customers DROP COLUMN duplicates_checked;
DROP TABLE customer_duplicates;
