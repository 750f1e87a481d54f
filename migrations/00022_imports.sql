-- +goose Up
-- Imports of customers from CSV, each a batch that can be undone.
--
-- The uploaded file is kept in chunks, so that checking and importing read it as a stream. A
-- check (the dry run) and the import itself run in the background and record each rejected
-- row; the import records, for every customer it created or changed, what it did and the
-- values it replaced, which is what undoing it needs.

CREATE TABLE import_batches (
    tenant_id   uuid        NOT NULL REFERENCES tenants (id),
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    file_name   text        NOT NULL CHECK (length(file_name) <= 255),
    file_hash   text        NOT NULL CHECK (file_hash ~ '^[0-9a-f]{64}$'),
    file_size   bigint      NOT NULL CHECK (file_size >= 0),
    encoding    text        NOT NULL CHECK (encoding IN ('utf-8', 'utf-8-bom', 'windows-1252')),
    delimiter   text        NOT NULL CHECK (delimiter IN (',', ';', E'\t', '|')),
    header      boolean     NOT NULL,
    columns     jsonb       NOT NULL, -- the header's names, or "Column 1", "Column 2" …
    preview     jsonb       NOT NULL, -- the first rows, as text
    mapping     jsonb       NOT NULL DEFAULT '{}', -- column index → field
    mode        text        NOT NULL DEFAULT 'create' CHECK (mode IN ('create', 'update', 'upsert')),
    match_key   text        NOT NULL DEFAULT 'email' CHECK (match_key IN ('number', 'email')),
    status      text        NOT NULL DEFAULT 'receiving'
                            CHECK (status IN ('receiving', 'uploaded', 'checking', 'checked', 'importing', 'imported', 'reverting', 'reverted', 'failed')),
    rows_total  integer     NOT NULL DEFAULT 0,
    rows_done   integer     NOT NULL DEFAULT 0, -- progress of the running check, import or undo
    to_create   integer     NOT NULL DEFAULT 0, -- what the check or the import counted
    to_update   integer     NOT NULL DEFAULT 0,
    to_skip     integer     NOT NULL DEFAULT 0,
    rejected    integer     NOT NULL DEFAULT 0,
    kept        integer     NOT NULL DEFAULT 0, -- customers an undo left alone: changed since
    failure     text        NOT NULL DEFAULT '' CHECK (length(failure) <= 500),
    created_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    imported_at timestamptz,
    reverted_at timestamptz,
    reverted_by uuid,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX import_batches_tenant_created ON import_batches (tenant_id, created_at DESC, id);

CREATE TABLE import_chunks (
    tenant_id uuid    NOT NULL,
    batch_id  uuid    NOT NULL,
    seq       integer NOT NULL,
    data      bytea   NOT NULL,
    PRIMARY KEY (tenant_id, batch_id, seq),
    FOREIGN KEY (tenant_id, batch_id) REFERENCES import_batches (tenant_id, id) ON DELETE CASCADE
);

-- The rows the last check or import refused, by line of the file (the header is line 1).
CREATE TABLE import_rejections (
    tenant_id uuid    NOT NULL,
    batch_id  uuid    NOT NULL,
    line      integer NOT NULL,
    field     text    NOT NULL CHECK (length(field) <= 100),
    message   text    NOT NULL CHECK (length(message) <= 500),
    PRIMARY KEY (tenant_id, batch_id, line, field),
    FOREIGN KEY (tenant_id, batch_id) REFERENCES import_batches (tenant_id, id) ON DELETE CASCADE
);

-- What an import did to each customer: created it, or changed it from before (the editable
-- fields as they were, and their tags). updated_at is the customer's right after the import:
-- an undo leaves alone a customer changed since.
CREATE TABLE import_changes (
    tenant_id   uuid        NOT NULL,
    batch_id    uuid        NOT NULL,
    customer_id uuid        NOT NULL,
    action      text        NOT NULL CHECK (action IN ('created', 'updated')),
    before      jsonb,
    updated_at  timestamptz NOT NULL,
    -- Set by the undo: undone, or kept because the customer changed since.
    undo        text        CHECK (undo IN ('undone', 'kept')),
    PRIMARY KEY (tenant_id, batch_id, customer_id),
    FOREIGN KEY (tenant_id, batch_id) REFERENCES import_batches (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
);

-- The organization's last mapping, by the column names it matched: the next file with those
-- names maps itself.
CREATE TABLE import_mappings (
    tenant_id uuid  NOT NULL REFERENCES tenants (id),
    kind      text  NOT NULL CHECK (kind = 'customers'),
    mapping   jsonb NOT NULL, -- lower-cased column name → field
    PRIMARY KEY (tenant_id, kind)
);

CREATE TRIGGER import_batches_record_ids AFTER INSERT OR DELETE ON import_batches FOR EACH ROW EXECUTE FUNCTION register_record_id();

ALTER TABLE import_batches ENABLE ROW LEVEL SECURITY;
ALTER TABLE import_batches FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON import_batches
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
ALTER TABLE import_chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE import_chunks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON import_chunks
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
ALTER TABLE import_rejections ENABLE ROW LEVEL SECURITY;
ALTER TABLE import_rejections FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON import_rejections
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
ALTER TABLE import_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE import_changes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON import_changes
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());
ALTER TABLE import_mappings ENABLE ROW LEVEL SECURITY;
ALTER TABLE import_mappings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON import_mappings
    USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id());

GRANT SELECT, INSERT, UPDATE ON import_batches TO moat_app;
GRANT SELECT, INSERT ON import_chunks, import_changes TO moat_app;
GRANT UPDATE (updated_at, undo) ON import_changes TO moat_app;
GRANT SELECT, INSERT, DELETE ON import_rejections TO moat_app;
GRANT SELECT, INSERT, UPDATE ON import_mappings TO moat_app;

-- +goose Down
DELETE FROM record_ids WHERE entity = 'import_batches';
DROP TABLE import_mappings;
DROP TABLE import_changes;
DROP TABLE import_rejections;
DROP TABLE import_chunks;
DROP TABLE import_batches;
