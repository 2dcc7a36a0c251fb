-- Data fetched through BankConnections. Every table carries namespace and
-- connection (the identity of the BankConnection) plus user_ref and provider
-- so that applications can select a user's data directly.
--
-- SQLite dialect of postgres/migrations/0001_init.sql: instants are text in
-- the fixed-width UTC form 2006-01-02T15:04:05.000000Z (text order is time
-- order), amounts are exact decimal text, JSON is text. Tables are STRICT so
-- a wrongly typed value is refused instead of silently converted.

CREATE TABLE connections (
  namespace  text NOT NULL,
  connection text NOT NULL,
  user_ref   text NOT NULL,
  provider   text NOT NULL,
  created_at text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (namespace, connection)
) STRICT;
CREATE INDEX connections_by_user ON connections (namespace, user_ref);

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
  PRIMARY KEY (namespace, connection, account_id)
) STRICT;
CREATE INDEX accounts_by_user ON accounts (namespace, user_ref);

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
  PRIMARY KEY (namespace, connection, account_id)
) STRICT;
CREATE INDEX cards_by_user ON cards (namespace, user_ref);

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
  PRIMARY KEY (namespace, connection, account_id, observed_at)
) STRICT;
CREATE INDEX balances_by_user ON balances (namespace, user_ref, observed_at);

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
  PRIMARY KEY (namespace, connection, account_id, normalised_provider_transaction_id)
) STRICT;
CREATE INDEX transactions_by_time ON transactions (namespace, connection, account_id, "timestamp");
CREATE INDEX transactions_by_user ON transactions (namespace, user_ref, "timestamp");

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
  PRIMARY KEY (namespace, connection, account_id, position)
) STRICT;
CREATE INDEX pending_by_user ON pending_transactions (namespace, user_ref);

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
  PRIMARY KEY (namespace, connection, account_id, position)
) STRICT;
CREATE INDEX standing_orders_by_user ON standing_orders (namespace, user_ref);

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
  PRIMARY KEY (namespace, connection, account_id, position)
) STRICT;
CREATE INDEX direct_debits_by_user ON direct_debits (namespace, user_ref);

-- account_id '' holds connection-level identity (/info); an account id
-- holds per-account identity (Signup+).
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
  PRIMARY KEY (namespace, connection, account_id, position)
) STRICT;
CREATE INDEX identities_by_user ON identities (namespace, user_ref);

CREATE TABLE sync_runs (
  namespace   text NOT NULL,
  run_id      text NOT NULL,
  sync_job    text NOT NULL,
  connection  text NOT NULL,
  user_ref    text NOT NULL,
  provider    text NOT NULL,
  started_at  text NOT NULL,
  finished_at text,
  status      text NOT NULL,
  error       text NOT NULL DEFAULT '',
  PRIMARY KEY (namespace, run_id)
) STRICT;
CREATE INDEX sync_runs_by_job ON sync_runs (namespace, sync_job, started_at);
CREATE INDEX sync_runs_by_connection ON sync_runs (namespace, connection);

CREATE TABLE sync_run_counts (
  namespace text NOT NULL,
  run_id    text NOT NULL,
  resource  text NOT NULL,
  count     integer NOT NULL,
  PRIMARY KEY (namespace, run_id, resource),
  FOREIGN KEY (namespace, run_id) REFERENCES sync_runs (namespace, run_id) ON DELETE CASCADE
) STRICT;
