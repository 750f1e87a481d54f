-- +goose Up
-- Exports of a whole organization: a ZIP an owner asks for, built in the background into
-- chunks here (so any app server can hand it out), downloadable by that owner alone for a
-- short while, then deleted. And imports that restore such an export into an organization.

CREATE TABLE exports (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id),
    id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    status       text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'building', 'ready', 'expired', 'failed')),
    requested_by uuid        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    rows_total   bigint      NOT NULL DEFAULT 0,
    rows_done    bigint      NOT NULL DEFAULT 0, -- progress of the build
    size         bigint      NOT NULL DEFAULT 0,
    sha256       text        NOT NULL DEFAULT '' CHECK (sha256 = '' OR sha256 ~ '^[0-9a-f]{64}$'),
    ready_at     timestamptz,
    expires_at   timestamptz, -- the download works until then; the file is deleted after
    failure      text        NOT NULL DEFAULT '' CHECK (length(failure) <= 500),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX exports_tenant_created ON exports (tenant_id, created_at DESC, id);

CREATE TABLE export_chunks (
    tenant_id uuid    NOT NULL,
    export_id uuid    NOT NULL,
    seq       integer NOT NULL,
    data      bytea   NOT NULL,
    PRIMARY KEY (tenant_id, export_id, seq),
    FOREIGN KEY (tenant_id, export_id) REFERENCES exports (tenant_id, id) ON DELETE CASCADE
);

CREATE TRIGGER exports_record_ids AFTER INSERT OR DELETE ON exports FOR EACH ROW EXECUTE FUNCTION register_record_id();

ALTER TABLE exports ENABLE ROW LEVEL SECURITY;
ALTER TABLE exports FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON exports
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
ALTER TABLE export_chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE export_chunks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON export_chunks
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());

GRANT SELECT, INSERT, UPDATE ON exports TO moat_app;
GRANT SELECT, INSERT, DELETE ON export_chunks TO moat_app;

-- An import reads a CSV file, or restores a Moat export (a ZIP).
ALTER TABLE import_batches ADD COLUMN kind text NOT NULL DEFAULT 'csv' CHECK (kind IN ('csv', 'moat-export'));

-- +goose Down
ALTER TABLE import_batches DROP COLUMN kind;
DELETE FROM record_ids WHERE entity = 'exports';
DROP TABLE export_chunks;
DROP TABLE exports;
