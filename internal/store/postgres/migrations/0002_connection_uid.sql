-- Rows are keyed by the BankConnection's UID as well as its name: a connection
-- deleted with spec.dataRetention Retain and created again under the same name is
-- another connection and must never read its predecessor's rows. Rows written
-- before this migration get an empty UID; the first incarnation of their name that
-- writes afterwards adopts them (sqlcore adoptLegacyRows).

ALTER TABLE connections ADD COLUMN connection_uid text NOT NULL DEFAULT '';
ALTER TABLE connections DROP CONSTRAINT connections_pkey, ADD PRIMARY KEY (namespace, connection, connection_uid);
ALTER TABLE accounts ADD COLUMN connection_uid text NOT NULL DEFAULT '';
ALTER TABLE accounts DROP CONSTRAINT accounts_pkey, ADD PRIMARY KEY (namespace, connection, connection_uid, account_id);
ALTER TABLE cards ADD COLUMN connection_uid text NOT NULL DEFAULT '';
ALTER TABLE cards DROP CONSTRAINT cards_pkey, ADD PRIMARY KEY (namespace, connection, connection_uid, account_id);
ALTER TABLE balances ADD COLUMN connection_uid text NOT NULL DEFAULT '';
ALTER TABLE balances DROP CONSTRAINT balances_pkey, ADD PRIMARY KEY (namespace, connection, connection_uid, account_id, observed_at);
ALTER TABLE transactions ADD COLUMN connection_uid text NOT NULL DEFAULT '';
ALTER TABLE transactions DROP CONSTRAINT transactions_pkey, ADD PRIMARY KEY (namespace, connection, connection_uid, account_id, normalised_provider_transaction_id);
ALTER TABLE pending_transactions ADD COLUMN connection_uid text NOT NULL DEFAULT '';
ALTER TABLE pending_transactions DROP CONSTRAINT pending_transactions_pkey, ADD PRIMARY KEY (namespace, connection, connection_uid, account_id, position);
ALTER TABLE standing_orders ADD COLUMN connection_uid text NOT NULL DEFAULT '';
ALTER TABLE standing_orders DROP CONSTRAINT standing_orders_pkey, ADD PRIMARY KEY (namespace, connection, connection_uid, account_id, position);
ALTER TABLE direct_debits ADD COLUMN connection_uid text NOT NULL DEFAULT '';
ALTER TABLE direct_debits DROP CONSTRAINT direct_debits_pkey, ADD PRIMARY KEY (namespace, connection, connection_uid, account_id, position);
ALTER TABLE identities ADD COLUMN connection_uid text NOT NULL DEFAULT '';
ALTER TABLE identities DROP CONSTRAINT identities_pkey, ADD PRIMARY KEY (namespace, connection, connection_uid, account_id, position);

DROP INDEX transactions_by_time;
CREATE INDEX transactions_by_time ON transactions (namespace, connection, connection_uid, account_id, "timestamp");
CREATE INDEX transactions_by_connection_time ON transactions (namespace, connection, connection_uid, "timestamp");

ALTER TABLE sync_runs ADD COLUMN connection_uid text NOT NULL DEFAULT '';
DROP INDEX sync_runs_by_connection;
CREATE INDEX sync_runs_by_connection ON sync_runs (namespace, connection, connection_uid);
CREATE INDEX sync_runs_by_user ON sync_runs (namespace, user_ref);
