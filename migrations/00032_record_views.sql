-- +goose Up
-- record_views folds each person's reads of a record into one row per day (UTC), kept as the
-- trail records them, so that a record's page reads a few rows however often it was viewed. It
-- is folded from the trail, which stays the record of every view; the app role may only read it.
CREATE TABLE record_views (
    tenant_id uuid        NOT NULL,
    entity    text        NOT NULL,
    entity_id text        NOT NULL,
    day       date        NOT NULL,
    user_id   uuid        NOT NULL,
    views     integer     NOT NULL,
    last_at   timestamptz NOT NULL,
    times     timestamptz[] NOT NULL, -- the newest 20, newest first
    PRIMARY KEY (tenant_id, entity, entity_id, day, user_id)
);
ALTER TABLE record_views ENABLE ROW LEVEL SECURITY;
ALTER TABLE record_views FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON record_views
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
-- The owner's own policy, for the trigger below, which writes as the owner.
CREATE POLICY definer_views ON record_views FOR ALL TO CURRENT_USER USING (true) WITH CHECK (true);
GRANT SELECT ON record_views TO moat_app;

-- +goose StatementBegin
-- count_record_view folds an allowed read of a record into its person's row for the day. It
-- runs as the owner, so that the app role cannot write the folds, only the trail they come from.
CREATE FUNCTION count_record_view() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
BEGIN
    INSERT INTO record_views AS r (tenant_id, entity, entity_id, day, user_id, views, last_at, times)
    VALUES (NEW.tenant_id, NEW.entity, NEW.entity_id, (NEW.occurred_at AT TIME ZONE 'UTC')::date, NEW.user_id, 1,
            NEW.occurred_at, ARRAY[NEW.occurred_at])
    ON CONFLICT (tenant_id, entity, entity_id, day, user_id) DO UPDATE
        SET views = r.views + 1, last_at = greatest(r.last_at, EXCLUDED.last_at),
            times = ARRAY(SELECT t FROM unnest(EXCLUDED.times || r.times) AS t ORDER BY t DESC LIMIT 20);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION count_record_view() FROM PUBLIC;
CREATE TRIGGER audit_events_record_views AFTER INSERT ON audit_events FOR EACH ROW
    WHEN (NEW.kind = 'view' AND NEW.outcome = 'allowed' AND NEW.entity_id <> '' AND NEW.user_id IS NOT NULL)
    EXECUTE FUNCTION count_record_view();

-- The views of the last 90 days, the span a record's page shows, folded from the trail.
INSERT INTO record_views (tenant_id, entity, entity_id, day, user_id, views, last_at, times)
SELECT tenant_id, entity, entity_id, (occurred_at AT TIME ZONE 'UTC')::date, user_id, count(*), max(occurred_at),
       (array_agg(occurred_at ORDER BY occurred_at DESC))[1:20]
FROM audit_events
WHERE kind = 'view' AND outcome = 'allowed' AND entity_id <> '' AND user_id IS NOT NULL AND occurred_at >= now() - interval '90 days'
GROUP BY 1, 2, 3, 4, 5;

-- +goose Down
DROP TRIGGER audit_events_record_views ON audit_events;
DROP FUNCTION count_record_view();
DROP TABLE record_views;
