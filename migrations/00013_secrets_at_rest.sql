-- +goose Up
-- Secrets at rest. The session and CSRF tables held the cookie values themselves, so anyone who
-- read the database as the app role (an injection, a leaked DATABASE_URL, a backup) held a live
-- session for every tenant. From here on they hold the SHA-256 of the value (lower-case hex), and
-- the app hashes a cookie before it looks it up (store.SecretKey). Existing rows are hashed in
-- place, so nobody is signed out. Revoked keys first: the trigger on sessions compares with them.
UPDATE revoked_sessions SET k = encode(sha256(convert_to(k, 'UTF8')), 'hex');
UPDATE sessions SET k = encode(sha256(convert_to(k, 'UTF8')), 'hex');
UPDATE csrf_tokens SET k = encode(sha256(convert_to(k, 'UTF8')), 'hex');
ALTER TABLE user_sessions NO FORCE ROW LEVEL SECURITY;
UPDATE user_sessions SET session_key = encode(sha256(convert_to(session_key, 'UTF8')), 'hex');
ALTER TABLE user_sessions FORCE ROW LEVEL SECURITY;

-- The id registry learns each id's tenant, so that a probe can tell "another tenant's" from
-- "this tenant's, but trashed". The app role no longer reads, writes or deletes it, nor the
-- record of cross-tenant attempts (deleting rows would blind the operators' alert): the trigger
-- and the probe below run as the owner, and do only what they say.
ALTER TABLE record_ids ADD COLUMN tenant_id uuid;
ALTER TABLE customers NO FORCE ROW LEVEL SECURITY;
ALTER TABLE users NO FORCE ROW LEVEL SECURITY;
ALTER TABLE tags NO FORCE ROW LEVEL SECURITY;
UPDATE record_ids r SET tenant_id = c.tenant_id FROM customers c WHERE r.entity = 'customers' AND c.id = r.id;
UPDATE record_ids r SET tenant_id = u.tenant_id FROM users u WHERE r.entity = 'users' AND u.id = r.id;
UPDATE record_ids r SET tenant_id = t.tenant_id FROM tags t WHERE r.entity = 'tags' AND t.id = r.id;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
ALTER TABLE tags FORCE ROW LEVEL SECURITY;
DELETE FROM record_ids WHERE tenant_id IS NULL;
ALTER TABLE record_ids ALTER COLUMN tenant_id SET NOT NULL;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION register_record_id() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO record_ids (id, entity, tenant_id) VALUES (NEW.id, TG_TABLE_NAME, NEW.tenant_id);
        RETURN NEW;
    END IF;
    DELETE FROM record_ids WHERE id = OLD.id AND tenant_id = OLD.tenant_id;
    RETURN OLD;
END
$$;

-- probe_record_id answers, after a request missed an id, whether the id exists in a tenant other
-- than p_tenant. If it does, the attempt is recorded for operators and the answer is how many
-- attempts p_user has made in the last five minutes (counted up to three); otherwise 0. The app
-- calls it after the response has gone, for every miss alike.
CREATE FUNCTION probe_record_id(p_id uuid, p_entity text, p_tenant uuid, p_user uuid) RETURNS integer
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
        WITH hit AS (SELECT 1 FROM record_ids WHERE id = p_id AND entity = p_entity AND tenant_id <> p_tenant),
             ins AS (INSERT INTO cross_tenant_attempts (user_id, entity) SELECT p_user, p_entity FROM hit RETURNING 1)
        SELECT CASE WHEN EXISTS (SELECT 1 FROM ins)
                    THEN 1 + (SELECT count(*) FROM (SELECT 1 FROM cross_tenant_attempts
                                                   WHERE user_id = p_user AND at > now() - interval '5 minutes' LIMIT 2) recent)::integer
                    ELSE 0 END
    $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION register_record_id() FROM PUBLIC;
REVOKE ALL ON FUNCTION probe_record_id(uuid, text, uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION probe_record_id(uuid, text, uuid, uuid) TO moat_app;
REVOKE ALL ON record_ids, cross_tenant_attempts FROM moat_app;

-- +goose Down
REVOKE EXECUTE ON FUNCTION probe_record_id(uuid, text, uuid, uuid) FROM moat_app;
DROP FUNCTION probe_record_id(uuid, text, uuid, uuid);
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION register_record_id() RETURNS trigger
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
GRANT EXECUTE ON FUNCTION register_record_id() TO moat_app;
ALTER TABLE record_ids DROP COLUMN tenant_id;
GRANT SELECT, INSERT, DELETE ON record_ids TO moat_app;
GRANT SELECT, INSERT ON cross_tenant_attempts TO moat_app;
-- Hashed keys cannot be turned back: everyone signs in again.
DELETE FROM sessions;
DELETE FROM csrf_tokens;
ALTER TABLE user_sessions NO FORCE ROW LEVEL SECURITY;
DELETE FROM user_sessions;
ALTER TABLE user_sessions FORCE ROW LEVEL SECURITY;
