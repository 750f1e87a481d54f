-- make test-citus: the demo tenants Acme and Globex on different workers, so that the isolation
-- smoke crosses machines. Where the hash of their ids put them on one worker, Globex's shard
-- group moves to the other one, as an operator moves tenants (block_writes: the test cluster
-- has no logical replication).
\set ON_ERROR_STOP on
DO $$
DECLARE
    acme   record;
    globex record;
BEGIN
    SELECT s.shardid, s.nodename, s.nodeport INTO acme FROM tenants t JOIN citus_shards s ON s.table_name = 'users'::regclass
        AND s.shardid = get_shard_id_for_distribution_column('users', t.id) WHERE t.name = 'Acme';
    SELECT s.shardid, s.nodename, s.nodeport INTO globex FROM tenants t JOIN citus_shards s ON s.table_name = 'users'::regclass
        AND s.shardid = get_shard_id_for_distribution_column('users', t.id) WHERE t.name = 'Globex';
    IF acme.shardid IS NULL OR globex.shardid IS NULL THEN
        RAISE EXCEPTION 'the demo tenants are missing';
    END IF;
    IF acme.nodeport = globex.nodeport THEN
        PERFORM citus_move_shard_placement(globex.shardid, globex.nodename, globex.nodeport, n.nodename, n.nodeport,
                                           shard_transfer_mode => 'block_writes')
        FROM pg_dist_node n WHERE n.shouldhaveshards AND n.isactive AND n.nodeport <> acme.nodeport LIMIT 1;
        RAISE NOTICE 'moved Globex to the other worker';
    END IF;
END $$;
SELECT string_agg(t.name || ' on port ' || s.nodeport, ', ' ORDER BY t.name) AS "demo tenants"
FROM tenants t JOIN citus_shards s ON s.table_name = 'users'::regclass AND s.shardid = get_shard_id_for_distribution_column('users', t.id)
WHERE t.name IN ('Acme', 'Globex') HAVING count(DISTINCT s.nodeport) = 2;
