-- +goose Up
-- The hash of the CSRF token a signed-in session was issued moves from the server-side session's
-- data, which each app server caches for a moment, to the session's row, which every request
-- reads (Sessions.Validate). A token bound on one app server is then good on the next request
-- wherever it lands, which the cache could not promise.
ALTER TABLE user_sessions ADD COLUMN csrf_hash text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE user_sessions DROP COLUMN csrf_hash;
