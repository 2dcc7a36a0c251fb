package store

import (
	"strings"
	"unicode"
)

// AccountIdentity is how the store matches an account or card across consents. A
// re-consent may bring new provider account ids for the same accounts (TrueLayer's
// account_id is per consent); the store keeps one row per account, found by Key,
// and every row of the account (balances, transactions, snapshots) under AccountID.
type AccountIdentity struct {
	// AccountID is the store's id of the account: the provider's id under which it
	// was first stored, kept across re-consents. Rows of every table carry it, and
	// it is the id applications read and filter by.
	AccountID string
	// ProviderAccountID is the provider's id of the account in the latest consent
	// (AccountID until a re-consent changes it). Writes may name the account by it.
	ProviderAccountID string
	// Key is the stable identity (see AccountKey and CardKey); "" when the provider
	// reports nothing that identifies the account beyond its id.
	Key string
	// Card is true for a card (the cards table).
	Card bool
}

// AccountKey returns what identifies a bank account whatever its provider id:
// the sort code and account number (also when only a GB IBAN carries them), else
// the IBAN, else the routing number or BSB with the account number. "" when none is
// reported: such an account is matched by its provider id only.
func AccountKey(a Account) string {
	n := a.Number
	iban := alphanumeric(n.IBAN)
	number := alphanumeric(n.Number)
	if sort := alphanumeric(n.SortCode); sort != "" && number != "" {
		return "gb:" + sort + ":" + number
	}
	// A GB IBAN is GBkk, a 4-letter bank code, the sort code and the account
	// number: the same key as the sort code and number, whichever a consent reports.
	if len(iban) == 22 && strings.HasPrefix(iban, "GB") {
		return "gb:" + iban[8:14] + ":" + iban[14:]
	}
	switch {
	case iban != "":
		return "iban:" + iban
	case alphanumeric(n.RoutingNumber) != "" && number != "":
		return "aba:" + alphanumeric(n.RoutingNumber) + ":" + number
	case alphanumeric(n.BSB) != "" && number != "":
		return "bsb:" + alphanumeric(n.BSB) + ":" + number
	}
	return ""
}

// CardKey returns what identifies a card whatever its provider id: the bank, the
// card network and the masked card number (the digits the provider shows), and the
// name on the card, which tells apart two cards of one account holder's household
// that share the last digits. "" without a masked number.
func CardKey(c Card) string {
	partial := alphanumeric(c.PartialCardNumber)
	if partial == "" {
		return ""
	}
	return "card:" + strings.ToLower(c.InstitutionID) + ":" + alphanumeric(c.CardNetwork) + ":" + partial + ":" +
		alphanumeric(c.NameOnCard)
}

// alphanumeric upper-cases s and drops everything but letters and digits, so
// "12-34-56", "123456" and "GB29 NWBK …" compare as the bank means them.
func alphanumeric(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}
