-- +goose Up
ALTER TABLE users
    ADD COLUMN must_change_password boolean     NOT NULL DEFAULT false,
    ADD COLUMN deactivated_at       timestamptz,
    ADD COLUMN password_changed_at  timestamptz NOT NULL DEFAULT now();

-- Each signed-in session of a person, so that they can see and end them, and so that a role
-- change, deactivation or removal can end them on the server. session_key is the key of the
-- server-side session (the table sessions); it never leaves the server.
CREATE TABLE user_sessions (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id),
    id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id      uuid        NOT NULL,
    session_key  text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    ip           text        NOT NULL DEFAULT '',
    user_agent   text        NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_sessions_tenant_user ON user_sessions (tenant_id, user_id, last_seen_at DESC);
CREATE UNIQUE INDEX user_sessions_tenant_key ON user_sessions (tenant_id, session_key);

ALTER TABLE user_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON user_sessions
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());

-- An ended session must stay ended. Requests already in flight save their session back with
-- an upsert (the session storage's INSERT ... ON CONFLICT), which would re-create a row that
-- was just deleted. Ending a session leaves its key here, and the trigger drops any later
-- write of that key. Keys are random and never reused, so a real new session never collides.
CREATE TABLE revoked_sessions (
    k       text        PRIMARY KEY,
    ended_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX revoked_sessions_ended_at ON revoked_sessions (ended_at);

-- +goose StatementBegin
CREATE FUNCTION refuse_revoked_session() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM revoked_sessions WHERE k = NEW.k) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER sessions_stay_ended BEFORE INSERT OR UPDATE ON sessions
    FOR EACH ROW EXECUTE FUNCTION refuse_revoked_session();

-- Sign-in and sign-up rate limits, shared by every app server (gofiber/storage's shape).
CREATE TABLE rate_limits (
    k text   PRIMARY KEY NOT NULL DEFAULT '',
    v bytea  NOT NULL,
    e bigint NOT NULL DEFAULT '0'
);
CREATE INDEX rate_limits_e ON rate_limits (e);

-- Sign-in needs to know whether the person is deactivated or must change their password.
DROP FUNCTION sign_in_lookup(text);
CREATE FUNCTION sign_in_lookup(p_email text)
    RETURNS TABLE (tenant_id uuid, id uuid, name text, email text, password_hash text, role text,
                   must_change_password boolean, deactivated boolean)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
    AS $$
        SELECT u.tenant_id, u.id, u.name, u.email, u.password_hash, u.role,
               u.must_change_password, u.deactivated_at IS NOT NULL
        FROM users u WHERE lower(u.email) = lower(p_email)
    $$;
REVOKE ALL ON FUNCTION sign_in_lookup(text) FROM PUBLIC;

-- People's ids join the registry, so a request for another tenant's person is counted too.
CREATE TRIGGER users_record_ids AFTER INSERT OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION register_record_id();
ALTER TABLE users NO FORCE ROW LEVEL SECURITY;
INSERT INTO record_ids (id, entity) SELECT id, 'users' FROM users ON CONFLICT DO NOTHING;
ALTER TABLE users FORCE ROW LEVEL SECURITY;

GRANT SELECT, INSERT, UPDATE, DELETE ON user_sessions, rate_limits TO moat_app;
GRANT SELECT, INSERT, DELETE ON revoked_sessions TO moat_app;
GRANT EXECUTE ON FUNCTION refuse_revoked_session() TO moat_app;
GRANT EXECUTE ON FUNCTION sign_in_lookup(text) TO moat_app;

-- +goose Down
DROP FUNCTION sign_in_lookup(text);
CREATE FUNCTION sign_in_lookup(p_email text)
    RETURNS TABLE (tenant_id uuid, id uuid, name text, email text, password_hash text, role text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
    AS $$
        SELECT u.tenant_id, u.id, u.name, u.email, u.password_hash, u.role
        FROM users u WHERE lower(u.email) = lower(p_email)
    $$;
REVOKE ALL ON FUNCTION sign_in_lookup(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sign_in_lookup(text) TO moat_app;
DROP TRIGGER users_record_ids ON users;
DELETE FROM record_ids WHERE entity = 'users';
DROP TABLE rate_limits;
DROP TRIGGER sessions_stay_ended ON sessions;
DROP FUNCTION refuse_revoked_session();
DROP TABLE revoked_sessions;
DROP TABLE user_sessions;
ALTER TABLE users DROP COLUMN password_changed_at, DROP COLUMN deactivated_at, DROP COLUMN must_change_password;
