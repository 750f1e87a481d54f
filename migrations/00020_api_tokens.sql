-- +goose Up
-- The JSON API: per-tenant tokens, their use counted per minute, and the responses to writes
-- kept under their Idempotency-Key.
--
-- A token is stored only as the SHA-256 of its secret. A request's token is resolved by
-- api_token_use alone, before any tenant is known: it answers the token's tenant and person
-- (while both may act) and keeps the token's rate limit, in one statement. Everything after
-- runs in the tenant's own transaction under row level security, like a page.

CREATE TABLE api_tokens (
    tenant_id       uuid        NOT NULL REFERENCES tenants (id),
    id              uuid        NOT NULL DEFAULT gen_random_uuid(),
    -- The person it acts as; removing them deletes it, deactivating them stops it.
    user_id         uuid        NOT NULL,
    name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- The start of the secret, to recognise it in the list; never enough to use it.
    prefix          text        NOT NULL CHECK (length(prefix) BETWEEN 1 AND 16),
    token_hash      text        NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    scope_customers text        NOT NULL DEFAULT 'none' CHECK (scope_customers IN ('none', 'read', 'write')),
    scope_invoices  text        NOT NULL DEFAULT 'none' CHECK (scope_invoices IN ('none', 'read', 'write')),
    scope_products  text        NOT NULL DEFAULT 'none' CHECK (scope_products IN ('none', 'read', 'write')),
    expires_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      uuid,
    revoked_at      timestamptz,
    revoked_by      uuid,
    last_used_at    timestamptz,
    last_used_ip    text        CHECK (length(last_used_ip) <= 64),
    -- Requests of the current minute handed out to the app servers, by api_token_use.
    rate_window     timestamptz,
    rate_count      integer     NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    CHECK (expires_at IS NULL OR expires_at > created_at)
) WITH (fillfactor = 70); -- room for the per-request counter's updates to stay on their page
CREATE INDEX api_tokens_tenant_created ON api_tokens (tenant_id, created_at DESC, id);
CREATE INDEX api_tokens_tenant_user ON api_tokens (tenant_id, user_id) WHERE revoked_at IS NULL;

-- The first answer to each POST that carried an Idempotency-Key, per token, for a day. A row
-- without a status is a request still running.
CREATE TABLE api_idempotency (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    token_id   uuid        NOT NULL,
    key        text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- The SHA-256 of the method, path and body: the same key with another request is refused.
    request    text        NOT NULL CHECK (request ~ '^[0-9a-f]{64}$'),
    status     integer     CHECK (status BETWEEN 100 AND 599),
    content_type text      NOT NULL DEFAULT '',
    location   text        NOT NULL DEFAULT '',
    body       bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, token_id, key),
    FOREIGN KEY (tenant_id, token_id) REFERENCES api_tokens (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX api_idempotency_tenant_age ON api_idempotency (tenant_id, token_id, created_at);

-- The trail names the token an API call used: its name and prefix as they were.
ALTER TABLE audit_events ADD COLUMN api_token text CHECK (length(api_token) <= 130);

CREATE TRIGGER api_tokens_record_ids AFTER INSERT OR DELETE ON api_tokens FOR EACH ROW EXECUTE FUNCTION register_record_id();

-- +goose StatementBegin
-- api_token_use resolves the token whose secret hashes to p_hash for one request from p_ip: its
-- tenant, person and scopes. state says whether it may act: 'ok', or why not ('revoked',
-- 'expired', 'deactivated'). An unknown hash answers no row.
--
-- The rate limit is counted here, so that every app server counts against one total. A server
-- leases up to p_lease requests of the token's current minute at a time (never past p_limit in
-- all) and spends them without asking again, so most requests only read: granted is what this
-- call leased, used what the minute has handed out. p_lease 0 leases nothing. A usable token's
-- last use is touched at most once a minute.
CREATE FUNCTION api_token_use(p_hash text, p_ip text, p_lease integer, p_limit integer)
    RETURNS TABLE (state text, tenant_id uuid, token_id uuid, token_name text, prefix text, user_id uuid, account_id uuid,
                   role text, name text, email text, scope_customers text, scope_invoices text, scope_products text,
                   granted integer, used integer, rate_reset timestamptz)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
DECLARE
    t api_tokens;
    u users;
    minute timestamptz := date_trunc('minute', now());
    touch boolean;
BEGIN
    SELECT * INTO t FROM api_tokens k WHERE k.token_hash = p_hash;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT * INTO u FROM users v WHERE v.tenant_id = t.tenant_id AND v.id = t.user_id;
    state := CASE
        WHEN t.revoked_at IS NOT NULL THEN 'revoked'
        WHEN t.expires_at IS NOT NULL AND t.expires_at <= now() THEN 'expired'
        WHEN u.deactivated_at IS NOT NULL THEN 'deactivated'
        ELSE 'ok' END;
    granted := 0;
    used := CASE WHEN t.rate_window = minute THEN t.rate_count ELSE 0 END;
    touch := t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute';
    IF state = 'ok' AND (p_lease > 0 OR touch) THEN
        SELECT CASE WHEN k.rate_window = minute THEN k.rate_count ELSE 0 END INTO used
            FROM api_tokens k WHERE k.tenant_id = t.tenant_id AND k.id = t.id FOR UPDATE;
        granted := least(greatest(p_lease, 0), greatest(p_limit - used, 0));
        used := used + granted;
        UPDATE api_tokens k SET
            rate_count = used,
            rate_window = minute,
            last_used_ip = CASE WHEN touch THEN left(p_ip, 64) ELSE k.last_used_ip END,
            last_used_at = CASE WHEN touch THEN now() ELSE k.last_used_at END
        WHERE k.tenant_id = t.tenant_id AND k.id = t.id;
    END IF;
    RETURN QUERY SELECT state, t.tenant_id, t.id, t.name, t.prefix, u.id, u.account_id, u.role, u.name, u.email,
        t.scope_customers, t.scope_invoices, t.scope_products, granted, used, minute + interval '1 minute';
END
$$;
-- +goose StatementEnd

ALTER TABLE api_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_tokens
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
-- api_token_use reads and counts a token before its tenant is known.
CREATE POLICY token_use ON api_tokens FOR ALL TO CURRENT_USER USING (true) WITH CHECK (true);
ALTER TABLE api_idempotency ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_idempotency FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_idempotency
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());

-- Tokens are made, revoked and listed, never edited otherwise: the secret's hash, scopes and
-- expiry stay as they were made.
GRANT SELECT, INSERT ON api_tokens TO moat_app;
GRANT UPDATE (revoked_at, revoked_by) ON api_tokens TO moat_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON api_idempotency TO moat_app;
REVOKE ALL ON FUNCTION api_token_use(text, text, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api_token_use(text, text, integer, integer) TO moat_app;

-- +goose Down
REVOKE ALL ON FUNCTION api_token_use(text, text, integer, integer) FROM moat_app;
DROP FUNCTION api_token_use(text, text, integer, integer);
ALTER TABLE audit_events DROP COLUMN api_token;
DELETE FROM record_ids WHERE entity = 'api_tokens';
DROP TABLE api_idempotency;
DROP TABLE api_tokens;
