package httpx

import "strings"

// Redact replaces every secret value (client secrets, tokens, API keys) in s, so a
// provider echoing a request back cannot carry one into an error, a status or a log.
// Values shorter than four characters are left alone: they would mangle ordinary text.
func Redact(s string, secrets []string) string {
	for _, v := range secrets {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}

// RedactErr keeps err's chain (errors.Is/As still work) but hides secrets from its
// message.
func RedactErr(err error, secrets []string) error {
	msg := err.Error()
	if r := Redact(msg, secrets); r != msg {
		return &redactedError{msg: r, err: err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
