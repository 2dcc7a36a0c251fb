-- Accounts and cards are matched across consents by a stable identity: a
-- re-consent may give the same account a new provider id (TrueLayer's account_id
-- is per consent). account_id stays the id under which the account was first
-- stored (every table's rows of the account keep it); provider_account_id is the
-- provider's id in the latest consent, and account_key what identifies the account
-- whatever its id (sort code and number, IBAN, or a card's bank, network and
-- masked number; '' when the provider reports none). sqlcore computes the key on
-- the next write of each row (store.AccountKey, store.CardKey), so existing rows
-- start with their own id as the provider's and an empty key.

ALTER TABLE accounts ADD COLUMN provider_account_id text NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN account_key text NOT NULL DEFAULT '';
UPDATE accounts SET provider_account_id = account_id;
ALTER TABLE cards ADD COLUMN provider_account_id text NOT NULL DEFAULT '';
ALTER TABLE cards ADD COLUMN account_key text NOT NULL DEFAULT '';
UPDATE cards SET provider_account_id = account_id;
