package sandbox

import (
	"strconv"
	"strings"
)

// Extend outcomes of POST /connections/extend.
const (
	ExtendNoActionNeeded          = "no_action_needed"
	ExtendAuthenticationNeeded    = "authentication_needed"
	ExtendReconfirmationOfConsent = "reconfirmation_of_consent_needed"
)

// mockUser is what a mock bank login selects (providers-api.md §5).
type mockUser struct {
	username string
	// errorCode makes every Data API call of the connection fail with it.
	errorCode string
	// extendOutcome is the default answer of /connections/extend.
	extendOutcome string
}

// numbered reports whether s is prefix, or prefix followed by 1..100.
func numbered(s, prefix string) bool {
	if s == prefix {
		return true
	}
	if !strings.HasPrefix(s, prefix) {
		return false
	}
	n, err := strconv.Atoi(s[len(prefix):])
	return err == nil && n >= 1 && n <= 100 && strconv.Itoa(n) == s[len(prefix):]
}

// mockLogin checks the mock bank's credentials:
//
//	john, john1..john100 / doe, doe1..doe100   success; extend -> authentication_needed
//	john, john1..john100 / iban, iban1..iban100 success (every account has its own valid IBAN)
//	john / eternal                              success; extend -> no_action_needed
//	john / reconfirm                            success; extend -> reconfirmation_of_consent_needed (sandbox extension)
//	error.<code> / error                        success; every Data API call fails with <code>
func mockLogin(username, password string) (mockUser, bool) {
	username = strings.TrimSpace(username)
	if code, ok := strings.CutPrefix(username, "error."); ok {
		if _, known := ErrorCatalogue[code]; known && password == "error" {
			return mockUser{username: username, errorCode: code, extendOutcome: ExtendAuthenticationNeeded}, true
		}
		return mockUser{}, false
	}
	if !numbered(username, "john") {
		return mockUser{}, false
	}
	switch {
	case numbered(password, "doe"), numbered(password, "iban"):
		return mockUser{username: username, extendOutcome: ExtendAuthenticationNeeded}, true
	case username == "john" && password == "eternal":
		return mockUser{username: username, extendOutcome: ExtendNoActionNeeded}, true
	case username == "john" && password == "reconfirm":
		return mockUser{username: username, extendOutcome: ExtendReconfirmationOfConsent}, true
	}
	return mockUser{}, false
}
