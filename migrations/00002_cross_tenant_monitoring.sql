-- +goose Up
-- Operators must see when someone asks for a record that exists, but in another tenant. The
-- app role cannot see other tenants' rows, so a registry of record ids (ids only: UUIDs and the
-- kind of record, no tenant and no data) tells "exists elsewhere" from "never existed".
-- Triggers keep it complete, raw SQL included.
CREATE TABLE record_ids (
    id     uuid PRIMARY KEY,
    entity text NOT NULL
);

-- +goose StatementBegin
CREATE FUNCTION register_record_id() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO record_ids (id, entity) VALUES (NEW.id, TG_TABLE_NAME);
        RETURN NEW;
    END IF;
    DELETE FROM record_ids WHERE id = OLD.id;
    RETURN OLD;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER customers_record_ids AFTER INSERT OR DELETE ON customers
    FOR EACH ROW EXECUTE FUNCTION register_record_id();

-- Backfill across tenants: the owner lifts FORCE inside this migration's transaction only.
ALTER TABLE customers NO FORCE ROW LEVEL SECURITY;
INSERT INTO record_ids (id, entity) SELECT id, 'customers' FROM customers ON CONFLICT DO NOTHING;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;

-- Operator data, outside every tenant's trail: who asked for which kind of record, when. The app appends;
-- operators prune it.
CREATE TABLE cross_tenant_attempts (
    at      timestamptz NOT NULL DEFAULT now(),
    user_id uuid        NOT NULL,
    entity  text        NOT NULL
);
CREATE INDEX cross_tenant_attempts_user_at ON cross_tenant_attempts (user_id, at);

GRANT SELECT, INSERT, DELETE ON record_ids TO moat_app;
GRANT SELECT, INSERT ON cross_tenant_attempts TO moat_app;
GRANT EXECUTE ON FUNCTION register_record_id() TO moat_app;

-- +goose Down
DROP TABLE cross_tenant_attempts;
DROP TRIGGER customers_record_ids ON customers;
DROP FUNCTION register_record_id();
DROP TABLE record_ids;
