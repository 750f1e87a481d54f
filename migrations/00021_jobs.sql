-- +goose Up
-- The background job queue (River) lives in its own schema, which River's own migrations fill
-- (migrations.Up runs them after these, as the owner). Jobs name their tenant and person and
-- nothing of the tenant's data: the work runs in the tenant's own transactions, like a request.
-- The app role uses the queue's tables and functions, and owns and creates nothing there.
CREATE SCHEMA river;
GRANT USAGE ON SCHEMA river TO moat_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA river GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO moat_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA river GRANT USAGE, SELECT ON SEQUENCES TO moat_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA river GRANT EXECUTE ON FUNCTIONS TO moat_app;

-- +goose Down
ALTER DEFAULT PRIVILEGES IN SCHEMA river REVOKE EXECUTE ON FUNCTIONS FROM moat_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA river REVOKE USAGE, SELECT ON SEQUENCES FROM moat_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA river REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM moat_app;
DROP SCHEMA river CASCADE;
