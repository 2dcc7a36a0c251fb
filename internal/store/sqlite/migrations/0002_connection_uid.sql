-- Rows are keyed by the BankConnection's UID as well as its name: a connection
-- deleted with spec.dataRetention Retain and created again under the same name is
-- another connection and must never read its predecessor's rows. Rows written
-- before this migration get an empty UID; the first incarnation of their name that
-- writes afterwards adopts them (sqlcore adoptLegacyRows).
--
-- SQLite cannot change a primary key in place: each keyed table is rebuilt with
-- connection_uid as its last column (so SELECT *, '' copies it) and in its key.
-- sync_runs is keyed by run id and only gains the column.

ALTER TABLE connections RENAME TO connections_v1;
DROP INDEX connections_by_user;
CREATE TABLE connections (
  namespace  text NOT NULL,
  connection text NOT NULL,
  user_ref   text NOT NULL,
  provider   text NOT NULL,
  created_at text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  connection_uid text NOT NULL DEFAULT '',
  PRIMARY KEY (namespace, connection, connection_uid)
) STRICT;
INSERT INTO connections SELECT *, '' FROM connections_v1;
DROP TABLE connections_v1;
CREATE INDEX connections_by_user ON connections (namespace, user_ref);

ALTER TABLE accounts RENAME TO accounts_v1;
DROP INDEX accounts_by_user;
CREATE TABLE accounts (
  namespace        text NOT NULL,
  connection       text NOT NULL,
  user_ref         text NOT NULL,
  provider         text NOT NULL,
  account_id       text NOT NULL,
  account_type     text NOT NULL DEFAULT '',
  display_name     text NOT NULL DEFAULT '',
  currency         text NOT NULL DEFAULT '',
  number           text NOT NULL DEFAULT '',
  sort_code        text NOT NULL DEFAULT '',
  swift_bic        text NOT NULL DEFAULT '',
  iban             text NOT NULL DEFAULT '',
  routing_number   text NOT NULL DEFAULT '',
  bsb              text NOT NULL DEFAULT '',
  institution_id   text NOT NULL DEFAULT '',
  update_timestamp text,
  fetched_at       text,
  meta             text,
  created_at       text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at       text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  connection_uid text NOT NULL DEFAULT '',
  PRIMARY KEY (namespace, connection, connection_uid, account_id)
) STRICT;
INSERT INTO accounts SELECT *, '' FROM accounts_v1;
DROP TABLE accounts_v1;
CREATE INDEX accounts_by_user ON accounts (namespace, user_ref);

ALTER TABLE cards RENAME TO cards_v1;
DROP INDEX cards_by_user;
CREATE TABLE cards (
  namespace           text NOT NULL,
  connection          text NOT NULL,
  user_ref            text NOT NULL,
  provider            text NOT NULL,
  account_id          text NOT NULL,
  card_network        text NOT NULL DEFAULT '',
  card_type           text NOT NULL DEFAULT '',
  currency            text NOT NULL DEFAULT '',
  display_name        text NOT NULL DEFAULT '',
  partial_card_number text NOT NULL DEFAULT '',
  name_on_card        text NOT NULL DEFAULT '',
  valid_from          text NOT NULL DEFAULT '',
  valid_to            text NOT NULL DEFAULT '',
  institution_id      text NOT NULL DEFAULT '',
  update_timestamp    text,
  fetched_at          text,
  meta                text,
  created_at          text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at          text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  connection_uid text NOT NULL DEFAULT '',
  PRIMARY KEY (namespace, connection, connection_uid, account_id)
) STRICT;
INSERT INTO cards SELECT *, '' FROM cards_v1;
DROP TABLE cards_v1;
CREATE INDEX cards_by_user ON cards (namespace, user_ref);

ALTER TABLE balances RENAME TO balances_v1;
DROP INDEX balances_by_user;
CREATE TABLE balances (
  namespace              text NOT NULL,
  connection             text NOT NULL,
  user_ref               text NOT NULL,
  provider               text NOT NULL,
  account_id             text NOT NULL,
  observed_at            text NOT NULL,
  currency               text NOT NULL DEFAULT '',
  current                text NOT NULL,
  available              text,
  overdraft              text,
  credit_limit           text,
  last_statement_balance text,
  last_statement_date    text,
  payment_due            text,
  payment_due_date       text,
  update_timestamp       text,
  connection_uid text NOT NULL DEFAULT '',
  PRIMARY KEY (namespace, connection, connection_uid, account_id, observed_at)
) STRICT;
INSERT INTO balances SELECT *, '' FROM balances_v1;
DROP TABLE balances_v1;
CREATE INDEX balances_by_user ON balances (namespace, user_ref, observed_at);

ALTER TABLE transactions RENAME TO transactions_v1;
DROP INDEX transactions_by_time;
DROP INDEX transactions_by_user;
CREATE TABLE transactions (
  namespace                          text NOT NULL,
  connection                         text NOT NULL,
  user_ref                           text NOT NULL,
  provider                           text NOT NULL,
  account_id                         text NOT NULL,
  normalised_provider_transaction_id text NOT NULL,
  provider_transaction_id            text NOT NULL DEFAULT '',
  "timestamp"                        text NOT NULL,
  description                        text NOT NULL DEFAULT '',
  amount                             text NOT NULL,
  currency                           text NOT NULL DEFAULT '',
  transaction_type                   text NOT NULL DEFAULT '',
  transaction_category               text NOT NULL DEFAULT '',
  transaction_classification         text,
  merchant_name                      text NOT NULL DEFAULT '',
  running_balance                    text,
  running_balance_currency           text NOT NULL DEFAULT '',
  meta                               text,
  created_at                         text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at                         text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  connection_uid text NOT NULL DEFAULT '',
  PRIMARY KEY (namespace, connection, connection_uid, account_id, normalised_provider_transaction_id)
) STRICT;
INSERT INTO transactions SELECT *, '' FROM transactions_v1;
DROP TABLE transactions_v1;
CREATE INDEX transactions_by_time ON transactions (namespace, connection, connection_uid, account_id, "timestamp");
CREATE INDEX transactions_by_user ON transactions (namespace, user_ref, "timestamp");

ALTER TABLE pending_transactions RENAME TO pending_transactions_v1;
DROP INDEX pending_by_user;
CREATE TABLE pending_transactions (
  namespace                          text NOT NULL,
  connection                         text NOT NULL,
  user_ref                           text NOT NULL,
  provider                           text NOT NULL,
  account_id                         text NOT NULL,
  position                           integer NOT NULL,
  normalised_provider_transaction_id text NOT NULL DEFAULT '',
  provider_transaction_id            text NOT NULL DEFAULT '',
  "timestamp"                        text NOT NULL,
  description                        text NOT NULL DEFAULT '',
  amount                             text NOT NULL,
  currency                           text NOT NULL DEFAULT '',
  transaction_type                   text NOT NULL DEFAULT '',
  transaction_category               text NOT NULL DEFAULT '',
  transaction_classification         text,
  merchant_name                      text NOT NULL DEFAULT '',
  running_balance                    text,
  running_balance_currency           text NOT NULL DEFAULT '',
  meta                               text,
  fetched_at                         text NOT NULL,
  connection_uid text NOT NULL DEFAULT '',
  PRIMARY KEY (namespace, connection, connection_uid, account_id, position)
) STRICT;
INSERT INTO pending_transactions SELECT *, '' FROM pending_transactions_v1;
DROP TABLE pending_transactions_v1;
CREATE INDEX pending_by_user ON pending_transactions (namespace, user_ref);

ALTER TABLE standing_orders RENAME TO standing_orders_v1;
DROP INDEX standing_orders_by_user;
CREATE TABLE standing_orders (
  namespace            text NOT NULL,
  connection           text NOT NULL,
  user_ref             text NOT NULL,
  provider             text NOT NULL,
  account_id           text NOT NULL,
  position             integer NOT NULL,
  frequency            text NOT NULL DEFAULT '',
  status               text NOT NULL DEFAULT '',
  "timestamp"          text,
  currency             text NOT NULL DEFAULT '',
  next_payment_date    text,
  next_payment_amount  text,
  first_payment_date   text,
  first_payment_amount text,
  final_payment_date   text,
  final_payment_amount text,
  payee                text NOT NULL DEFAULT '',
  reference            text NOT NULL DEFAULT '',
  meta                 text,
  fetched_at           text NOT NULL,
  connection_uid text NOT NULL DEFAULT '',
  PRIMARY KEY (namespace, connection, connection_uid, account_id, position)
) STRICT;
INSERT INTO standing_orders SELECT *, '' FROM standing_orders_v1;
DROP TABLE standing_orders_v1;
CREATE INDEX standing_orders_by_user ON standing_orders (namespace, user_ref);

ALTER TABLE direct_debits RENAME TO direct_debits_v1;
DROP INDEX direct_debits_by_user;
CREATE TABLE direct_debits (
  namespace                  text NOT NULL,
  connection                 text NOT NULL,
  user_ref                   text NOT NULL,
  provider                   text NOT NULL,
  account_id                 text NOT NULL,
  position                   integer NOT NULL,
  direct_debit_id            text NOT NULL DEFAULT '',
  "timestamp"                text,
  name                       text NOT NULL DEFAULT '',
  status                     text NOT NULL DEFAULT '',
  previous_payment_timestamp text,
  previous_payment_amount    text,
  currency                   text NOT NULL DEFAULT '',
  meta                       text,
  fetched_at                 text NOT NULL,
  connection_uid text NOT NULL DEFAULT '',
  PRIMARY KEY (namespace, connection, connection_uid, account_id, position)
) STRICT;
INSERT INTO direct_debits SELECT *, '' FROM direct_debits_v1;
DROP TABLE direct_debits_v1;
CREATE INDEX direct_debits_by_user ON direct_debits (namespace, user_ref);

ALTER TABLE identities RENAME TO identities_v1;
DROP INDEX identities_by_user;
CREATE TABLE identities (
  namespace        text NOT NULL,
  connection       text NOT NULL,
  user_ref         text NOT NULL,
  provider         text NOT NULL,
  account_id       text NOT NULL,
  position         integer NOT NULL,
  full_name        text NOT NULL DEFAULT '',
  title            text NOT NULL DEFAULT '',
  first_name       text NOT NULL DEFAULT '',
  last_name        text NOT NULL DEFAULT '',
  date_of_birth    text NOT NULL DEFAULT '',
  branch_id        text NOT NULL DEFAULT '',
  emails           text,
  phones           text,
  addresses        text,
  update_timestamp text,
  meta             text,
  fetched_at       text NOT NULL,
  connection_uid text NOT NULL DEFAULT '',
  PRIMARY KEY (namespace, connection, connection_uid, account_id, position)
) STRICT;
INSERT INTO identities SELECT *, '' FROM identities_v1;
DROP TABLE identities_v1;
CREATE INDEX identities_by_user ON identities (namespace, user_ref);

CREATE INDEX transactions_by_connection_time ON transactions (namespace, connection, connection_uid, "timestamp");

ALTER TABLE sync_runs ADD COLUMN connection_uid text NOT NULL DEFAULT '';
DROP INDEX sync_runs_by_connection;
CREATE INDEX sync_runs_by_connection ON sync_runs (namespace, connection, connection_uid);
CREATE INDEX sync_runs_by_user ON sync_runs (namespace, user_ref);
