-- +goose Up
-- CSRF tokens move out of the session into their own table, in the shape
-- github.com/gofiber/storage/postgres expects. In the session, the token's expiry, renewed on
-- every request, made every GET write the session; here a token's row is constant, so a GET
-- writes nothing (the session cache skips unchanged writes) and the expiry is refreshed at
-- most once a minute. Not tenant data: a token is found by its unguessable value.
CREATE TABLE csrf_tokens (
    k text   PRIMARY KEY NOT NULL DEFAULT '',
    v bytea  NOT NULL,
    e bigint NOT NULL DEFAULT '0'
);
CREATE INDEX csrf_tokens_e ON csrf_tokens (e);
GRANT SELECT, INSERT, UPDATE, DELETE ON csrf_tokens TO moat_app;

-- +goose Down
DROP TABLE csrf_tokens;
