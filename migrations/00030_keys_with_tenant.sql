-- +goose Up
-- Every unique key of a table with tenant_id includes tenant_id, so that the schema can be
-- sharded by tenant (Citus) with every constraint kept: a shard can only check keys that hold
-- its distribution column. Two did not (TestEveryTenantKeyHoldsTheTenant finds any new one):
--
-- record_ids, the registry of every record's id with its tenant, is read by id alone when the
-- cross-tenant probe asks whether an id exists elsewhere: its key becomes (tenant_id, id), with
-- an index on id for the probe. Ids are random UUIDs made by PostgreSQL.
--
-- api_tokens.token_hash is read alone when a request presents a token, before its tenant is
-- known: unique within the tenant, with an index on the hash for that lookup. A hash is of 256
-- random bits; two tenants' tokens never share one.
ALTER TABLE record_ids DROP CONSTRAINT record_ids_pkey, ADD PRIMARY KEY (tenant_id, id);
CREATE INDEX record_ids_id ON record_ids (id);
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_token_hash_key,
    ADD CONSTRAINT api_tokens_tenant_token_hash_key UNIQUE (tenant_id, token_hash);
CREATE INDEX api_tokens_token_hash ON api_tokens (token_hash);

-- +goose Down
DROP INDEX api_tokens_token_hash;
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_tenant_token_hash_key, ADD CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash);
DROP INDEX record_ids_id;
ALTER TABLE record_ids DROP CONSTRAINT record_ids_pkey, ADD PRIMARY KEY (id);
