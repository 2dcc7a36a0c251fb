package open

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// EnvDSN is the environment variable holding the store DSN, typically set
// from a Secret (valueFrom.secretKeyRef) so the password stays out of the
// Deployment's arguments.
const EnvDSN = "CONSENT_OPERATOR_STORE_DSN"

// Sources are the places the manager can take the store DSN from.
type Sources struct {
	// Flag is the --store value (it has a default: a SQLite file in the data
	// directory).
	Flag string
	// File is the --store-dsn-file value: a file holding the DSN, e.g. a
	// mounted Secret key.
	File string
	// LookupEnv reads the environment; os.LookupEnv when nil.
	LookupEnv func(string) (string, bool)
	// ReadFile reads File; os.ReadFile when nil.
	ReadFile func(string) ([]byte, error)
}

// ResolveDSN picks the DSN: the file when --store-dsn-file is given, else
// $CONSENT_OPERATOR_STORE_DSN when set, else --store. Giving both a file and
// the variable is refused, since either could silently win. Errors never
// contain the DSN (it may hold a password).
func ResolveDSN(s Sources) (string, error) {
	lookup := s.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	read := s.ReadFile
	if read == nil {
		read = os.ReadFile
	}
	env, envSet := lookup(EnvDSN)
	envSet = envSet && strings.TrimSpace(env) != ""
	switch {
	case s.File != "" && envSet:
		return "", fmt.Errorf("both --store-dsn-file and $%s are set; set only one", EnvDSN)
	case s.File != "":
		b, err := read(s.File)
		if err != nil {
			return "", fmt.Errorf("read --store-dsn-file: %w", err)
		}
		dsn := strings.TrimSpace(string(b))
		if dsn == "" {
			return "", fmt.Errorf("--store-dsn-file %s is empty", s.File)
		}
		return dsn, nil
	case envSet:
		return strings.TrimSpace(env), nil
	case strings.TrimSpace(s.Flag) != "":
		return strings.TrimSpace(s.Flag), nil
	}
	return "", errors.New("no store DSN: set --store, --store-dsn-file or $" + EnvDSN)
}
