// Package consent holds the pure decisions behind a BankConnection: when the tokens
// are due for refresh, how long to back off after a failure, where the consent stands
// in its 90-day life, and when the controller must look again. Every function takes
// the current time as an argument, so the decisions are table-tested without a clock.
package consent
