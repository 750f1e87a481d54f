-- +goose Up
-- Ready for Citus without changing what anything does (docs/citus.md): Citus cannot plan a SQL
-- function whose statement takes a parameter and reaches a distributed table, so these three
-- become PL/pgSQL with the same statements; invitation_lookup asks about the account with a
-- join rather than a correlated EXISTS (accounts.email is unique: the same answer); and
-- api_token_use takes the time once, since Citus refuses now() inside an UPDATE's CASE.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION public.sign_in_lookup(p_email text)
 RETURNS TABLE(account_id uuid, password_hash text, tenant_id uuid, user_id uuid, name text, role text, deactivated boolean, organization text)
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
BEGIN
    RETURN QUERY
        SELECT a.id, a.password_hash, u.tenant_id, u.id, u.name, u.role, u.deactivated_at IS NOT NULL, t.name
        FROM accounts a
        LEFT JOIN users u ON u.account_id = a.id
        LEFT JOIN tenants t ON t.id = u.tenant_id
        WHERE a.email = lower(p_email)
        ORDER BY lower(t.name), t.id;
END
$function$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION public.invitation_lookup(p_token_hash text)
 RETURNS TABLE(tenant_id uuid, invitation_id uuid, organization text, email text, name text, role text, account_exists boolean)
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
BEGIN
    RETURN QUERY
        SELECT i.tenant_id, i.id, t.name, i.email, i.name, i.role, a.id IS NOT NULL
        FROM invitations i JOIN tenants t ON t.id = i.tenant_id
        LEFT JOIN accounts a ON a.email = i.email
        WHERE i.token_hash = p_token_hash AND i.accepted_at IS NULL AND i.expires_at > now();
END
$function$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION public.probe_record_id(p_id uuid, p_entity text, p_tenant uuid, p_user uuid)
 RETURNS integer
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
DECLARE
    n integer;
BEGIN
    WITH hit AS (SELECT 1 FROM record_ids WHERE id = p_id AND entity = p_entity AND tenant_id <> p_tenant),
         ins AS (INSERT INTO cross_tenant_attempts (user_id, entity) SELECT p_user, p_entity FROM hit RETURNING 1)
    SELECT CASE WHEN EXISTS (SELECT 1 FROM ins)
                THEN 1 + (SELECT count(*) FROM (SELECT 1 FROM cross_tenant_attempts
                                               WHERE user_id = p_user AND at > now() - interval '5 minutes' LIMIT 2) recent)::integer
                ELSE 0 END INTO n;
    RETURN n;
END
$function$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION public.api_token_use(p_hash text, p_ip text, p_lease integer, p_limit integer)
 RETURNS TABLE(state text, tenant_id uuid, token_id uuid, token_name text, prefix text, user_id uuid, account_id uuid, role text, name text, email text, scope_customers text, scope_invoices text, scope_products text, granted integer, used integer, rate_reset timestamp with time zone)
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
DECLARE
    t api_tokens;
    u users;
    minute timestamptz := date_trunc('minute', now());
    at_now timestamptz := now(); -- Citus allows no now() inside the UPDATE's CASE below
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
            last_used_at = CASE WHEN touch THEN at_now ELSE k.last_used_at END
        WHERE k.tenant_id = t.tenant_id AND k.id = t.id;
    END IF;
    RETURN QUERY SELECT state, t.tenant_id, t.id, t.name, t.prefix, u.id, u.account_id, u.role, u.name, u.email,
        t.scope_customers, t.scope_invoices, t.scope_products, granted, used, minute + interval '1 minute';
END
$function$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION public.sign_in_lookup(p_email text)
 RETURNS TABLE(account_id uuid, password_hash text, tenant_id uuid, user_id uuid, name text, role text, deactivated boolean, organization text)
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
        SELECT a.id, a.password_hash, u.tenant_id, u.id, u.name, u.role, u.deactivated_at IS NOT NULL, t.name
        FROM accounts a
        LEFT JOIN users u ON u.account_id = a.id
        LEFT JOIN tenants t ON t.id = u.tenant_id
        WHERE a.email = lower(p_email)
        ORDER BY lower(t.name), t.id
    $function$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION public.invitation_lookup(p_token_hash text)
 RETURNS TABLE(tenant_id uuid, invitation_id uuid, organization text, email text, name text, role text, account_exists boolean)
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
        SELECT i.tenant_id, i.id, t.name, i.email, i.name, i.role, EXISTS (SELECT 1 FROM accounts a WHERE a.email = i.email)
        FROM invitations i JOIN tenants t ON t.id = i.tenant_id
        WHERE i.token_hash = p_token_hash AND i.accepted_at IS NULL AND i.expires_at > now()
    $function$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION public.probe_record_id(p_id uuid, p_entity text, p_tenant uuid, p_user uuid)
 RETURNS integer
 LANGUAGE sql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
        WITH hit AS (SELECT 1 FROM record_ids WHERE id = p_id AND entity = p_entity AND tenant_id <> p_tenant),
             ins AS (INSERT INTO cross_tenant_attempts (user_id, entity) SELECT p_user, p_entity FROM hit RETURNING 1)
        SELECT CASE WHEN EXISTS (SELECT 1 FROM ins)
                    THEN 1 + (SELECT count(*) FROM (SELECT 1 FROM cross_tenant_attempts
                                                   WHERE user_id = p_user AND at > now() - interval '5 minutes' LIMIT 2) recent)::integer
                    ELSE 0 END
    $function$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION public.api_token_use(p_hash text, p_ip text, p_lease integer, p_limit integer)
 RETURNS TABLE(state text, tenant_id uuid, token_id uuid, token_name text, prefix text, user_id uuid, account_id uuid, role text, name text, email text, scope_customers text, scope_invoices text, scope_products text, granted integer, used integer, rate_reset timestamp with time zone)
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
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
$function$;
-- +goose StatementEnd
