-- +goose Up
-- +goose StatementBegin
-- check_session reads the person signed in with session p_sid of tenant p_tenant, if the session
-- is still listed under key p_key and the person still active, and notes the session was seen
-- at p_seen when one is given. Every request asks: one statement where BEGIN, the tenant
-- setting, the read, the note and COMMIT were five. It runs as the caller, so row level
-- security applies as ever; enter_tenant sets the tenant for this statement's own transaction.
CREATE FUNCTION check_session(p_tenant uuid, p_sid uuid, p_key text, p_seen timestamptz)
    RETURNS TABLE (role text, name text, email text, csrf_hash text)
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
BEGIN
    PERFORM enter_tenant(p_tenant);
    RETURN QUERY SELECT u.role, u.name, u.email, s.csrf_hash
        FROM user_sessions s JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
        WHERE s.id = p_sid AND s.session_key = p_key AND u.deactivated_at IS NULL;
    IF FOUND AND p_seen IS NOT NULL THEN
        UPDATE user_sessions s SET last_seen_at = p_seen WHERE s.id = p_sid;
    END IF;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION check_session(uuid, uuid, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION check_session(uuid, uuid, text, timestamptz) TO moat_app;

-- +goose Down
DROP FUNCTION check_session(uuid, uuid, text, timestamptz);
