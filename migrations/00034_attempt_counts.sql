-- +goose Up
-- Sign-in and sign-up attempts, per address and per email, each counted by one statement, so
-- that app servers counting at the same moment never count from the same number (rate_limits
-- held Fiber's limiter's entries, which it read and wrote back, locking only in its process).
-- A key's window starts at its first attempt; prev is the count of the window before, which a
-- sliding window weighs by how much of it still overlaps.
CREATE TABLE attempt_counts (
    k          text        PRIMARY KEY,
    window_at  timestamptz NOT NULL,
    prev       integer     NOT NULL,
    curr       integer     NOT NULL,
    expires_at timestamptz NOT NULL -- two windows on: nothing of it counts any more
);
CREATE INDEX attempt_counts_expires_at ON attempt_counts (expires_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON attempt_counts TO moat_app;
DROP TABLE rate_limits;

-- +goose StatementBegin
-- count_attempt counts one attempt for key at now and returns how many the sliding window holds
-- with it: this window's, plus the window before weighed by how much of it still overlaps. The
-- count is one INSERT … ON CONFLICT DO UPDATE, atomic under the row's lock. Two expired keys go
-- with each attempt, so the table keeps only what still counts, without a sweeper: after the
-- count, and skipping locked rows, so that two attempts never wait on each other's sweep.
CREATE FUNCTION count_attempt(p_key text, p_window interval, p_now timestamptz, OUT rate integer, OUT reset interval)
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
DECLARE
    c attempt_counts;
BEGIN
    INSERT INTO attempt_counts AS a (k, window_at, prev, curr, expires_at)
        VALUES (p_key, p_now, 0, 1, p_now + 2 * p_window)
    ON CONFLICT (k) DO UPDATE SET
        window_at  = CASE WHEN p_now < a.window_at + p_window THEN a.window_at
                          WHEN p_now < a.window_at + 2 * p_window THEN a.window_at + p_window
                          ELSE p_now END,
        prev       = CASE WHEN p_now < a.window_at + p_window THEN a.prev
                          WHEN p_now < a.window_at + 2 * p_window THEN a.curr
                          ELSE 0 END,
        curr       = CASE WHEN p_now < a.window_at + p_window THEN a.curr + 1 ELSE 1 END,
        expires_at = CASE WHEN p_now < a.window_at + p_window THEN a.expires_at
                          WHEN p_now < a.window_at + 2 * p_window THEN a.window_at + 3 * p_window
                          ELSE p_now + 2 * p_window END
    RETURNING * INTO c;
    DELETE FROM attempt_counts WHERE k IN (SELECT x.k FROM attempt_counts x
        WHERE x.expires_at < p_now AND x.k <> p_key LIMIT 2 FOR UPDATE SKIP LOCKED);
    rate := floor(c.prev * greatest(0, 1 - extract(epoch FROM p_now - c.window_at) / extract(epoch FROM p_window)))::integer + c.curr;
    reset := c.window_at + p_window - p_now;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION count_attempt(text, interval, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION count_attempt(text, interval, timestamptz) TO moat_app;

-- +goose Down
DROP FUNCTION count_attempt(text, interval, timestamptz);
DROP TABLE attempt_counts;
CREATE TABLE rate_limits (
    k text   PRIMARY KEY NOT NULL DEFAULT '',
    v bytea  NOT NULL,
    e bigint NOT NULL DEFAULT '0'
);
CREATE INDEX rate_limits_e ON rate_limits (e);
GRANT SELECT, INSERT, UPDATE, DELETE ON rate_limits TO moat_app;
