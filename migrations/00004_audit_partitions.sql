-- +goose Up
-- The audit trail, partitioned by month, so that an operator can archive or drop old months
-- without touching new ones. The old table steps aside, its rows are copied, then it goes.
ALTER TABLE audit_events RENAME TO audit_events_old;
ALTER TABLE audit_events_old RENAME CONSTRAINT audit_events_pkey TO audit_events_old_pkey;
DROP INDEX audit_events_tenant_time;

-- The primary key carries the partition column.
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
    PRIMARY KEY (tenant_id, occurred_at, id)
) PARTITION BY RANGE (occurred_at);

-- The newest first, one record's history, one person's actions: all led by the tenant.
CREATE INDEX audit_events_tenant_time ON audit_events (tenant_id, occurred_at DESC, id DESC);
CREATE INDEX audit_events_tenant_entity ON audit_events (tenant_id, entity, entity_id, occurred_at DESC);
CREATE INDEX audit_events_tenant_user ON audit_events (tenant_id, user_id, occurred_at DESC);

ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_events
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());

-- +goose StatementBegin
-- audit_partition creates the partition for the month containing day, with the same row
-- level security as the parent: a partition is a table of its own when named directly.
CREATE FUNCTION audit_partition(day date) RETURNS text
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
DECLARE
    first date := date_trunc('month', day)::date;
    name  text := 'audit_events_' || to_char(first, 'YYYY_MM');
BEGIN
    IF to_regclass('public.' || name) IS NULL THEN
        EXECUTE format('CREATE TABLE public.%I PARTITION OF public.audit_events FOR VALUES FROM (%L) TO (%L)',
                       name, first, (first + interval '1 month')::date);
        EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', name);
        EXECUTE format('ALTER TABLE public.%I FORCE ROW LEVEL SECURITY', name);
        EXECUTE format('CREATE POLICY tenant_isolation ON public.%I USING (tenant_id = public.current_tenant_id()) WITH CHECK (tenant_id = public.current_tenant_id())', name);
    END IF;
    RETURN name;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION audit_partition(date) FROM PUBLIC;

-- Rows for a month without its partition land here rather than fail; `moat migrate` keeps
-- partitions ready months ahead, so it stays empty.
CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT;
ALTER TABLE audit_events_default ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events_default FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_events_default
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());

-- Partitions for the months around now and every month the old trail covers, then its rows.
-- The owner lifts FORCE on the old table inside this migration's transaction only, to read
-- every tenant's rows; the new table's policies bind the owner, so it writes tenant by tenant.
SELECT audit_partition(m::date)
FROM generate_series(date_trunc('month', now()) - interval '1 month', date_trunc('month', now()) + interval '3 months', interval '1 month') m;
ALTER TABLE audit_events_old NO FORCE ROW LEVEL SECURITY;
SELECT audit_partition(m::date) FROM (SELECT DISTINCT date_trunc('month', occurred_at) AS m FROM audit_events_old) months;
-- +goose StatementBegin
DO $$
DECLARE t uuid;
BEGIN
    FOR t IN SELECT DISTINCT tenant_id FROM audit_events_old LOOP
        PERFORM set_config('app.tenant_id', t::text, true);
        INSERT INTO audit_events SELECT * FROM audit_events_old WHERE tenant_id = t;
    END LOOP;
    PERFORM set_config('app.tenant_id', '', true);
END
$$;
-- +goose StatementEnd
DROP TABLE audit_events_old;

GRANT SELECT, INSERT ON audit_events TO moat_app;
-- /readyz compares the schema version with the migrations the binary carries.
GRANT SELECT ON goose_db_version TO moat_app;

-- +goose Down
REVOKE SELECT ON goose_db_version FROM moat_app;
DROP TABLE audit_events;
DROP FUNCTION audit_partition(date);
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
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_events
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
GRANT SELECT, INSERT ON audit_events TO moat_app;
