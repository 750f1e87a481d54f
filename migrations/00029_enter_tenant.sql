-- +goose Up
-- +goose StatementBegin
-- enter_tenant sets the transaction's tenant with SET LOCAL. Citus forwards SET LOCAL to the
-- workers that hold a tenant's shards; it does not forward set_config, so under Citus every
-- tenant table answered nothing. A function rather than the statement itself, because SET takes
-- no parameters: a SET LOCAL naming each tenant would be a new statement text per tenant, which
-- pgx prepares (a round trip) and caches (crowding out the app's own statements) on every
-- connection for every tenant it meets. This text is one, prepared once per connection, and the
-- tenant is a parameter of type uuid: the value set is always a canonical UUID, or nothing.
-- Transaction-local, like set_config(…, true) before it. No SET search_path clause: it runs as
-- the caller and names nothing unqualified, and the clause alone cost 7 µs a call, more than the
-- rest (5.7 µs, set_config's 5).
CREATE FUNCTION enter_tenant(t uuid) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    EXECUTE pg_catalog.format('SET LOCAL app.tenant_id = %L', t);
END $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION enter_tenant(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION enter_tenant(uuid) TO moat_app;

-- +goose Down
DROP FUNCTION enter_tenant(uuid);
