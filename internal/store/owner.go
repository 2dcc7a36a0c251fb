package store

import "fmt"

// ConnectionKey identifies the data fetched through one BankConnection.
type ConnectionKey struct {
	Namespace  string
	Connection string
}

func (k ConnectionKey) String() string { return k.Namespace + "/" + k.Connection }

func (k ConnectionKey) validate() error {
	if k.Namespace == "" {
		return fmt.Errorf("%w: namespace is empty", ErrInvalid)
	}
	if k.Connection == "" {
		return fmt.Errorf("%w: connection name is empty", ErrInvalid)
	}
	return nil
}

// Validate reports whether the key names a connection.
func (k ConnectionKey) Validate() error { return k.validate() }

// Owner is who a written row belongs to: the BankConnection it was fetched
// through (namespace and name, the row's identity) and the connection's
// stable userRef and provider (attributes an application filters on).
type Owner struct {
	Namespace  string
	Connection string
	// UserRef is the application's stable reference for its end user; it
	// survives re-consents, so data of one user stays together.
	UserRef string
	// Provider is the data provider the connection talks to, e.g.
	// "truelayer" or "codat".
	Provider string
}

// Key returns the owner's connection key.
func (o Owner) Key() ConnectionKey {
	return ConnectionKey{Namespace: o.Namespace, Connection: o.Connection}
}

// Validate reports an ErrInvalid error when a field is missing.
func (o Owner) Validate() error {
	if err := o.Key().validate(); err != nil {
		return err
	}
	if o.UserRef == "" {
		return fmt.Errorf("%w: userRef of %s is empty", ErrInvalid, o.Key())
	}
	if o.Provider == "" {
		return fmt.Errorf("%w: provider of %s is empty", ErrInvalid, o.Key())
	}
	return nil
}
