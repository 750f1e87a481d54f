-- +goose Up
-- Accounts that reveal nothing. An email used to name exactly one user across all tenants, so
-- signing up or adding a person with an email already used elsewhere answered differently, and
-- whoever typed an address first owned it. Now a person has one account (email and password)
-- and a membership (a row of users) in each organization they belong to, which no other
-- organization can see. Only an emailed link proves an address: signing up, accepting an
-- invitation and resetting a password each start with "check your inbox", whatever Moat knows.
--
-- The app role has no privileges on accounts: it reaches them only through the functions below,
-- each of which does one thing (the posture check lists them).
CREATE TABLE accounts (
    id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email               text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND email = lower(email)),
    password_hash       text        NOT NULL,
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX accounts_email ON accounts (email);

-- Emails were unique across tenants, so each user becomes an account of its own.
ALTER TABLE users NO FORCE ROW LEVEL SECURITY;
INSERT INTO accounts (id, email, password_hash, password_changed_at, created_at)
    SELECT id, lower(email), password_hash, password_changed_at, created_at FROM users;
ALTER TABLE users ADD COLUMN account_id uuid;
UPDATE users SET account_id = id, email = lower(email);
ALTER TABLE users FORCE ROW LEVEL SECURITY;
ALTER TABLE users
    ALTER COLUMN account_id SET NOT NULL,
    ADD FOREIGN KEY (account_id) REFERENCES accounts (id),
    ADD CHECK (email = lower(email)),
    DROP COLUMN password_hash,
    DROP COLUMN must_change_password,
    DROP COLUMN password_changed_at;
-- Unique in the organization only: the same person may belong to several.
DROP INDEX users_email_key;
CREATE UNIQUE INDEX users_tenant_email ON users (tenant_id, email);
CREATE UNIQUE INDEX users_tenant_account ON users (tenant_id, account_id);
CREATE INDEX users_account ON users (account_id);

-- Sign-ups waiting for their email link. The app may only add to it.
CREATE TABLE signup_requests (
    token_hash    text        PRIMARY KEY, -- the SHA-256 of the emailed token
    email         text        NOT NULL CHECK (email = lower(email)),
    organization  text        NOT NULL,
    name          text        NOT NULL,
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX signup_requests_expires ON signup_requests (expires_at);

-- Password resets waiting for their email link, asked for any address alike.
CREATE TABLE password_resets (
    token_hash text        PRIMARY KEY,
    email      text        NOT NULL CHECK (email = lower(email)),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX password_resets_expires ON password_resets (expires_at);

-- Invitations to join an organization: tenant data like any other.
CREATE TABLE invitations (
    tenant_id   uuid        NOT NULL REFERENCES tenants (id),
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    token_hash  text        NOT NULL,
    email       text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND email = lower(email)),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role        text        NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    invited_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, invited_by) REFERENCES users (tenant_id, id) ON DELETE SET NULL (invited_by)
);
CREATE INDEX invitations_tenant_email ON invitations (tenant_id, email);
-- The invitee has no tenant yet: their link finds the invitation by its token alone.
CREATE INDEX invitations_token ON invitations (token_hash);
ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invitations
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
-- The owner (and so the functions below, which run as it) reads invitations by token.
CREATE POLICY token_lookup ON invitations FOR SELECT TO CURRENT_USER USING (true);
CREATE TRIGGER invitations_record_ids AFTER INSERT OR DELETE ON invitations
    FOR EACH ROW EXECUTE FUNCTION register_record_id();

-- Mail waiting to be sent (and, in development, kept for the outbox page). A sent message's
-- body, which may hold a link's token, is cleared once sent.
CREATE TABLE outbox (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    recipient  text        NOT NULL,
    subject    text        NOT NULL,
    body       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz
);
CREATE INDEX outbox_unsent ON outbox (created_at) WHERE sent_at IS NULL;

-- Refused sign-ins, known address or not: the same one row either way, written by the refusal.
-- After the response, report_sign_in_failures copies each into the trail of every organization
-- the address's account belongs to, so a known address costs the request nothing more.
CREATE TABLE sign_in_failures (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    at         timestamptz NOT NULL DEFAULT now(),
    email_hash text        NOT NULL, -- SHA-256 of the lower-cased address typed
    account_id uuid,                 -- the address's account, if it has one
    reason     text        NOT NULL,
    request_id text        NOT NULL DEFAULT '',
    ip         text        NOT NULL DEFAULT '',
    user_agent text        NOT NULL DEFAULT '',
    reported   boolean     NOT NULL DEFAULT false
);
CREATE INDEX sign_in_failures_at ON sign_in_failures (at);
CREATE INDEX sign_in_failures_unreported ON sign_in_failures (at) WHERE NOT reported;

-- The functions below write rows of several tenants' trails and session lists in one call (a
-- person's memberships): the owner's own policies let them, and bind nobody else.
CREATE POLICY definer_writes ON audit_events FOR INSERT TO CURRENT_USER WITH CHECK (true);
CREATE POLICY definer_reads ON tenants FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY definer_sessions ON user_sessions FOR ALL TO CURRENT_USER USING (true) WITH CHECK (true);

DROP FUNCTION sign_in_lookup(text);

-- +goose StatementBegin
-- sign_in_lookup returns the account with email p_email, one row per membership (or one row
-- with no tenant when it has none), and no row for an address Moat does not know.
CREATE FUNCTION sign_in_lookup(p_email text)
    RETURNS TABLE (account_id uuid, password_hash text, tenant_id uuid, user_id uuid, name text, role text,
                   deactivated boolean, organization text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
        SELECT a.id, a.password_hash, u.tenant_id, u.id, u.name, u.role, u.deactivated_at IS NOT NULL, t.name
        FROM accounts a
        LEFT JOIN users u ON u.account_id = a.id
        LEFT JOIN tenants t ON t.id = u.tenant_id
        WHERE a.email = lower(p_email)
        ORDER BY lower(t.name), t.id
    $$;

-- sign_in_failed records a refused sign-in: one row, for any address alike.
CREATE FUNCTION sign_in_failed(p_email text, p_reason text, p_request_id text, p_ip text, p_user_agent text) RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
        INSERT INTO sign_in_failures (email_hash, account_id, reason, request_id, ip, user_agent)
            VALUES (encode(sha256(convert_to(lower(p_email), 'UTF8')), 'hex'),
                    (SELECT a.id FROM accounts a WHERE a.email = lower(p_email)), p_reason, p_request_id, p_ip, p_user_agent);
    $$;

-- report_sign_in_failures writes each refused sign-in not yet reported as a denied sign-in in the
-- trail of every organization its account belongs to, and says how many rows it wrote.
CREATE FUNCTION report_sign_in_failures() RETURNS bigint
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
        WITH pending AS (UPDATE sign_in_failures SET reported = true WHERE NOT reported RETURNING *),
             written AS (
                INSERT INTO audit_events (tenant_id, occurred_at, user_id, action, entity, entity_id, outcome, request_id, ip, user_agent, details)
                SELECT u.tenant_id, p.at, u.id, 'auth.sign_in', 'user', u.id::text, 'denied', p.request_id, p.ip, p.user_agent,
                       jsonb_build_object('reason', p.reason)
                FROM pending p JOIN users u ON u.account_id = p.account_id
                RETURNING 1)
        SELECT count(*) FROM written
    $$;

-- claim_signup takes the sign-up request whose token hashes to p_token_hash, if it has not
-- expired, and returns its account: the one the address already has (created false), or a new
-- one with the request's password. It runs in the new organization's transaction.
CREATE FUNCTION claim_signup(p_token_hash text)
    RETURNS TABLE (account_id uuid, created boolean, email text, organization text, name text)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
DECLARE
    r signup_requests;
BEGIN
    DELETE FROM signup_requests s WHERE s.token_hash = p_token_hash AND s.expires_at > now() RETURNING * INTO r;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT a.id INTO account_id FROM accounts a WHERE a.email = r.email;
    created := NOT FOUND;
    IF created THEN
        INSERT INTO accounts (email, password_hash) VALUES (r.email, r.password_hash) RETURNING id INTO account_id;
    END IF;
    email := r.email; organization := r.organization; name := r.name;
    RETURN NEXT;
END
$$;

-- invitation_lookup returns the open invitation whose token hashes to p_token_hash, with its
-- organization's name and whether its address has an account already.
CREATE FUNCTION invitation_lookup(p_token_hash text)
    RETURNS TABLE (tenant_id uuid, invitation_id uuid, organization text, email text, name text, role text, account_exists boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
        SELECT i.tenant_id, i.id, t.name, i.email, i.name, i.role, EXISTS (SELECT 1 FROM accounts a WHERE a.email = i.email)
        FROM invitations i JOIN tenants t ON t.id = i.tenant_id
        WHERE i.token_hash = p_token_hash AND i.accepted_at IS NULL AND i.expires_at > now()
    $$;

-- claim_invitation accepts the open invitation whose token hashes to p_token_hash, in the
-- transaction of its organization (the caller's tenant), and returns the account joining: the
-- address's own, or a new one with p_password_hash.
CREATE FUNCTION claim_invitation(p_token_hash text, p_password_hash text)
    RETURNS TABLE (account_id uuid, created boolean, invitation_id uuid, email text, name text, role text)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
DECLARE
    i invitations;
BEGIN
    UPDATE invitations v SET accepted_at = now()
        WHERE v.tenant_id = current_tenant_id() AND v.token_hash = p_token_hash AND v.accepted_at IS NULL AND v.expires_at > now()
        RETURNING * INTO i;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT a.id INTO account_id FROM accounts a WHERE a.email = i.email;
    created := NOT FOUND;
    IF created THEN
        IF coalesce(p_password_hash, '') = '' THEN
            RAISE EXCEPTION 'a new account needs a password' USING ERRCODE = '22023';
        END IF;
        INSERT INTO accounts (email, password_hash) VALUES (i.email, p_password_hash) RETURNING id INTO account_id;
    END IF;
    invitation_id := i.id; email := i.email; name := i.name; role := i.role;
    RETURN NEXT;
END
$$;

-- end_account_sessions (called only by the two functions after it, as the owner) ends the
-- listed sessions of every membership of account p_account but p_keep, revoking their keys, and
-- records p_action in each organization's trail. It returns how many sessions it ended.
CREATE FUNCTION end_account_sessions(p_account uuid, p_keep uuid, p_action text, p_request_id text, p_ip text, p_user_agent text) RETURNS bigint
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
DECLARE
    n bigint;
BEGIN
    WITH ended AS (
        DELETE FROM user_sessions s USING users u
        WHERE u.account_id = p_account AND s.tenant_id = u.tenant_id AND s.user_id = u.id AND s.id IS DISTINCT FROM p_keep
        RETURNING s.session_key),
    revoked AS (INSERT INTO revoked_sessions (k) SELECT session_key FROM ended ON CONFLICT DO NOTHING),
    gone AS (DELETE FROM sessions WHERE k IN (SELECT session_key FROM ended))
    SELECT count(*) INTO n FROM ended;
    INSERT INTO audit_events (tenant_id, user_id, action, entity, entity_id, outcome, request_id, ip, user_agent)
        SELECT u.tenant_id, u.id, p_action, 'user', u.id::text, 'allowed', p_request_id, p_ip, p_user_agent
        FROM users u WHERE u.account_id = p_account;
    RETURN n;
END
$$;

-- change_password replaces the password of account p_account, if its hash is still p_current
-- (the one the caller checked the typed password against), and ends the account's sessions in
-- every organization but p_keep. It returns false when the password changed meanwhile.
CREATE FUNCTION change_password(p_account uuid, p_current text, p_new text, p_keep uuid, p_request_id text, p_ip text, p_user_agent text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
BEGIN
    UPDATE accounts SET password_hash = p_new, password_changed_at = now() WHERE id = p_account AND password_hash = p_current;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM end_account_sessions(p_account, p_keep, 'user.password_change', p_request_id, p_ip, p_user_agent);
    RETURN true;
END
$$;

-- reset_password takes the reset whose token hashes to p_token_hash, if it has not expired,
-- and gives its address's account the password p_new, ending every session of it. It returns
-- the account, or no row when the token is not good or the address has no account.
CREATE FUNCTION reset_password(p_token_hash text, p_new text, p_request_id text, p_ip text, p_user_agent text)
    RETURNS TABLE (account_id uuid)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
DECLARE
    r password_resets;
BEGIN
    DELETE FROM password_resets p WHERE p.token_hash = p_token_hash AND p.expires_at > now() RETURNING * INTO r;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    UPDATE accounts a SET password_hash = p_new, password_changed_at = now() WHERE a.email = r.email RETURNING a.id INTO account_id;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM end_account_sessions(account_id, NULL, 'user.password_reset', p_request_id, p_ip, p_user_agent);
    RETURN NEXT;
END
$$;
-- +goose StatementEnd

REVOKE ALL ON FUNCTION sign_in_lookup(text), sign_in_failed(text, text, text, text, text), report_sign_in_failures(), claim_signup(text),
    invitation_lookup(text), claim_invitation(text, text), end_account_sessions(uuid, uuid, text, text, text, text),
    change_password(uuid, text, text, uuid, text, text, text), reset_password(text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sign_in_lookup(text), sign_in_failed(text, text, text, text, text), report_sign_in_failures(), claim_signup(text),
    invitation_lookup(text), claim_invitation(text, text), change_password(uuid, text, text, uuid, text, text, text),
    reset_password(text, text, text, text, text) TO moat_app;

GRANT SELECT, INSERT, UPDATE, DELETE ON invitations TO moat_app;
GRANT INSERT ON signup_requests, password_resets TO moat_app;
GRANT SELECT, INSERT, UPDATE ON outbox TO moat_app;

-- +goose Down
DROP FUNCTION reset_password(text, text, text, text, text);
DROP FUNCTION change_password(uuid, text, text, uuid, text, text, text);
DROP FUNCTION end_account_sessions(uuid, uuid, text, text, text, text);
DROP FUNCTION claim_invitation(text, text);
DROP FUNCTION invitation_lookup(text);
DROP FUNCTION claim_signup(text);
DROP FUNCTION report_sign_in_failures();
DROP FUNCTION sign_in_failed(text, text, text, text, text);
DROP FUNCTION sign_in_lookup(text);
DROP POLICY definer_sessions ON user_sessions;
DROP POLICY definer_reads ON tenants;
DROP POLICY definer_writes ON audit_events;
DROP TABLE sign_in_failures;
DROP TABLE outbox;
DROP TRIGGER invitations_record_ids ON invitations;
DELETE FROM record_ids WHERE entity = 'invitations';
DROP TABLE invitations;
DROP TABLE password_resets;
DROP TABLE signup_requests;
DROP INDEX users_account;
DROP INDEX users_tenant_account;
DROP INDEX users_tenant_email;
ALTER TABLE users
    ADD COLUMN password_hash text,
    ADD COLUMN must_change_password boolean NOT NULL DEFAULT false,
    ADD COLUMN password_changed_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE users NO FORCE ROW LEVEL SECURITY;
-- A person in several organizations keeps the first; the others lose their membership.
DELETE FROM users u WHERE EXISTS (SELECT 1 FROM users o WHERE o.account_id = u.account_id AND (o.created_at, o.id) < (u.created_at, u.id));
UPDATE users u SET password_hash = a.password_hash, password_changed_at = a.password_changed_at FROM accounts a WHERE a.id = u.account_id;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
ALTER TABLE users ALTER COLUMN password_hash SET NOT NULL, DROP COLUMN account_id;
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
DROP TABLE accounts;
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
GRANT EXECUTE ON FUNCTION sign_in_lookup(text) TO moat_app;
