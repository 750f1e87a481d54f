-- +goose Up
-- The token hash is unique within a tenant only (00030), so that a shard can check it. Hashes
-- are of 256 random bits made by the server, so two tokens never share one; should they, the
-- lookup refuses both rather than authenticate as whichever row it met first.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION api_token_use(p_hash text, p_ip text, p_lease integer, p_limit integer)
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
    -- Counted, not caught with STRICT: an exception block is a subtransaction on every call.
    IF (SELECT count(*) FROM api_tokens k WHERE k.token_hash = p_hash) > 1 THEN
        RAISE WARNING 'api_token_use: a token hash is held by more than one token; refused';
        RETURN;
    END IF;
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

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION api_token_use(p_hash text, p_ip text, p_lease integer, p_limit integer)
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
