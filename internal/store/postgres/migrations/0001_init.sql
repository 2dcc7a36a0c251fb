-- Data fetched through BankConnections. Every table carries namespace and
-- connection (the identity of the BankConnection) plus user_ref and provider
-- so that applications can select a user's data directly.

CREATE TABLE connections (
  namespace  text NOT NULL,
  connection text NOT NULL,
  user_ref   text NOT NULL,
  provider   text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (namespace, connection)
);
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
  update_timestamp timestamptz,
  fetched_at       timestamptz,
  meta             jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (namespace, connection, account_id)
);
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
  update_timestamp    timestamptz,
  fetched_at          timestamptz,
  meta                jsonb,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (namespace, connection, account_id)
);
CREATE INDEX cards_by_user ON cards (namespace, user_ref);

CREATE TABLE balances (
  namespace              text NOT NULL,
  connection             text NOT NULL,
  user_ref               text NOT NULL,
  provider               text NOT NULL,
  account_id             text NOT NULL,
  observed_at            timestamptz NOT NULL,
  currency               text NOT NULL DEFAULT '',
  current                numeric NOT NULL,
  available              numeric,
  overdraft              numeric,
  credit_limit           numeric,
  last_statement_balance numeric,
  last_statement_date    timestamptz,
  payment_due            numeric,
  payment_due_date       timestamptz,
  update_timestamp       timestamptz,
  PRIMARY KEY (namespace, connection, account_id, observed_at)
);
CREATE INDEX balances_by_user ON balances (namespace, user_ref, observed_at);

CREATE TABLE transactions (
  namespace                          text NOT NULL,
  connection                         text NOT NULL,
  user_ref                           text NOT NULL,
  provider                           text NOT NULL,
  account_id                         text NOT NULL,
  normalised_provider_transaction_id text NOT NULL,
  provider_transaction_id            text NOT NULL DEFAULT '',
  "timestamp"                        timestamptz NOT NULL,
  description                        text NOT NULL DEFAULT '',
  amount                             numeric NOT NULL,
  currency                           text NOT NULL DEFAULT '',
  transaction_type                   text NOT NULL DEFAULT '',
  transaction_category               text NOT NULL DEFAULT '',
  transaction_classification         jsonb,
  merchant_name                      text NOT NULL DEFAULT '',
  running_balance                    numeric,
  running_balance_currency           text NOT NULL DEFAULT '',
  meta                               jsonb,
  created_at                         timestamptz NOT NULL DEFAULT now(),
  updated_at                         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (namespace, connection, account_id, normalised_provider_transaction_id)
);
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
  "timestamp"                        timestamptz NOT NULL,
  description                        text NOT NULL DEFAULT '',
  amount                             numeric NOT NULL,
  currency                           text NOT NULL DEFAULT '',
  transaction_type                   text NOT NULL DEFAULT '',
  transaction_category               text NOT NULL DEFAULT '',
  transaction_classification         jsonb,
  merchant_name                      text NOT NULL DEFAULT '',
  running_balance                    numeric,
  running_balance_currency           text NOT NULL DEFAULT '',
  meta                               jsonb,
  fetched_at                         timestamptz NOT NULL,
  PRIMARY KEY (namespace, connection, account_id, position)
);
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
  "timestamp"          timestamptz,
  currency             text NOT NULL DEFAULT '',
  next_payment_date    timestamptz,
  next_payment_amount  numeric,
  first_payment_date   timestamptz,
  first_payment_amount numeric,
  final_payment_date   timestamptz,
  final_payment_amount numeric,
  payee                text NOT NULL DEFAULT '',
  reference            text NOT NULL DEFAULT '',
  meta                 jsonb,
  fetched_at           timestamptz NOT NULL,
  PRIMARY KEY (namespace, connection, account_id, position)
);
CREATE INDEX standing_orders_by_user ON standing_orders (namespace, user_ref);

CREATE TABLE direct_debits (
  namespace                  text NOT NULL,
  connection                 text NOT NULL,
  user_ref                   text NOT NULL,
  provider                   text NOT NULL,
  account_id                 text NOT NULL,
  position                   integer NOT NULL,
  direct_debit_id            text NOT NULL DEFAULT '',
  "timestamp"                timestamptz,
  name                       text NOT NULL DEFAULT '',
  status                     text NOT NULL DEFAULT '',
  previous_payment_timestamp timestamptz,
  previous_payment_amount    numeric,
  currency                   text NOT NULL DEFAULT '',
  meta                       jsonb,
  fetched_at                 timestamptz NOT NULL,
  PRIMARY KEY (namespace, connection, account_id, position)
);
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
  emails           jsonb,
  phones           jsonb,
  addresses        jsonb,
  update_timestamp timestamptz,
  meta             jsonb,
  fetched_at       timestamptz NOT NULL,
  PRIMARY KEY (namespace, connection, account_id, position)
);
CREATE INDEX identities_by_user ON identities (namespace, user_ref);

CREATE TABLE sync_runs (
  namespace   text NOT NULL,
  run_id      text NOT NULL,
  sync_job    text NOT NULL,
  connection  text NOT NULL,
  user_ref    text NOT NULL,
  provider    text NOT NULL,
  started_at  timestamptz NOT NULL,
  finished_at timestamptz,
  status      text NOT NULL,
  error       text NOT NULL DEFAULT '',
  PRIMARY KEY (namespace, run_id)
);
CREATE INDEX sync_runs_by_job ON sync_runs (namespace, sync_job, started_at);
CREATE INDEX sync_runs_by_connection ON sync_runs (namespace, connection);

CREATE TABLE sync_run_counts (
  namespace text NOT NULL,
  run_id    text NOT NULL,
  resource  text NOT NULL,
  count     bigint NOT NULL,
  PRIMARY KEY (namespace, run_id, resource),
  FOREIGN KEY (namespace, run_id) REFERENCES sync_runs (namespace, run_id) ON DELETE CASCADE
);
