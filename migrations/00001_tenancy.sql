-- +goose Up
-- The tenant a transaction works for. Set only with set_config(..., true), so it ends with
-- the transaction; unset or empty means no tenant, and every policy below then matches nothing.
-- STABLE lets the planner evaluate it once per statement, not once per row.
CREATE FUNCTION current_tenant_id() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;

CREATE TABLE tenants (
    id         uuid        PRIMARY KEY,
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    tenant_id     uuid        NOT NULL REFERENCES tenants (id),
    id            uuid        NOT NULL DEFAULT gen_random_uuid(),
    email         text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    password_hash text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
-- The one index not led by tenant_id: people sign in with an email alone, so an email names
-- exactly one user across all tenants. It is read only by sign_in_lookup below.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE customers (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email      text        NOT NULL DEFAULT '' CHECK (length(email) <= 254),
    phone      text        NOT NULL DEFAULT '' CHECK (length(phone) <= 50),
    company    text        NOT NULL DEFAULT '' CHECK (length(company) <= 200),
    notes      text        NOT NULL DEFAULT '' CHECK (length(notes) <= 5000),
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES users (tenant_id, id) ON DELETE SET NULL (created_by)
);
-- The list's order and keyset: (tenant, lower(name), id).
CREATE INDEX customers_tenant_name ON customers (tenant_id, lower(name), id);

CREATE TABLE audit_events (
    tenant_id   uuid        NOT NULL REFERENCES tenants (id),
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    user_id     uuid,
    action      text        NOT NULL,
    entity      text        NOT NULL,
    entity_id   text        NOT NULL DEFAULT '',
    outcome     text        NOT NULL CHECK (outcome IN ('allowed', 'denied', 'rejected')),
    request_id  text        NOT NULL DEFAULT '',
    ip          text        NOT NULL DEFAULT '',
    user_agent  text        NOT NULL DEFAULT '',
    details     jsonb,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_events_tenant_time ON audit_events (tenant_id, occurred_at DESC, id DESC);

-- Server-side sessions, in the shape github.com/gofiber/storage/postgres expects.
-- Not tenant data: a session is found by its unguessable key before any tenant is known.
CREATE TABLE sessions (
    k text   PRIMARY KEY NOT NULL DEFAULT '',
    v bytea  NOT NULL,
    e bigint NOT NULL DEFAULT '0'
);
CREATE INDEX sessions_e ON sessions (e);

-- The second wall. FORCE makes the policies bind the table owner too.
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants
    USING (id = current_tenant_id()) WITH CHECK (id = current_tenant_id());

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
-- The owner role (and so sign_in_lookup, which runs as it) may read users across tenants.
-- The app role never connects as the owner; the start-up check refuses to serve if it does.
CREATE POLICY sign_in_lookup ON users FOR SELECT TO CURRENT_USER USING (true);

ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customers
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());

ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_events
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());

-- The one cross-tenant read: the user an email belongs to, for sign-in. Nothing else.
CREATE FUNCTION sign_in_lookup(p_email text)
    RETURNS TABLE (tenant_id uuid, id uuid, name text, email text, password_hash text, role text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
    AS $$
        SELECT u.tenant_id, u.id, u.name, u.email, u.password_hash, u.role
        FROM users u WHERE lower(u.email) = lower(p_email)
    $$;
REVOKE ALL ON FUNCTION sign_in_lookup(text) FROM PUBLIC;

-- The app role: no ownership, no DDL, and on the audit trail only INSERT and SELECT.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM moat_app;
GRANT USAGE ON SCHEMA public TO moat_app;
GRANT SELECT, INSERT ON tenants TO moat_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, customers, sessions TO moat_app;
GRANT SELECT, INSERT ON audit_events TO moat_app;
GRANT EXECUTE ON FUNCTION current_tenant_id() TO moat_app;
GRANT EXECUTE ON FUNCTION sign_in_lookup(text) TO moat_app;

-- +goose Down
DROP FUNCTION sign_in_lookup(text);
DROP TABLE sessions;
DROP TABLE audit_events;
DROP TABLE customers;
DROP TABLE users;
DROP TABLE tenants;
DROP FUNCTION current_tenant_id();
