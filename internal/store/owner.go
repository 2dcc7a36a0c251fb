package store

import "fmt"

// ConnectionKey identifies the data fetched through one BankConnection: its
// namespace, name and UID. The UID is part of the identity because a name is
// reused: a connection deleted with spec.dataRetention Retain and created again
// under the same name is another connection (another user, perhaps), and it must
// never read its predecessor's rows.
type ConnectionKey struct {
	Namespace  string
	Connection string
	// UID is the BankConnection's metadata.uid.
	UID string
}

func (k ConnectionKey) String() string { return k.Namespace + "/" + k.Connection }

func (k ConnectionKey) validate() error {
	if k.Namespace == "" {
		return fmt.Errorf("%w: namespace is empty", ErrInvalid)
	}
	if k.Connection == "" {
		return fmt.Errorf("%w: connection name is empty", ErrInvalid)
	}
	if k.UID == "" {
		return fmt.Errorf("%w: uid of connection %s is empty", ErrInvalid, k)
	}
	return nil
}

// Validate reports whether the key names a connection.
func (k ConnectionKey) Validate() error { return k.validate() }

// UserKey identifies everything stored for one end user of one tenant: the
// rows of every connection, present or deleted, that carried the userRef.
type UserKey struct {
	Namespace string
	UserRef   string
}

func (u UserKey) String() string { return u.Namespace + "/" + u.UserRef }

// Validate reports an ErrInvalid error when a field is missing.
func (u UserKey) Validate() error {
	if u.Namespace == "" || u.UserRef == "" {
		return fmt.Errorf("%w: a user needs namespace and userRef", ErrInvalid)
	}
	return nil
}

// Owner is who a written row belongs to: the BankConnection it was fetched
// through (namespace, name and UID, the row's identity) and the connection's
// stable userRef and provider (attributes an application filters on).
type Owner struct {
	Namespace  string
	Connection string
	// UID is the BankConnection's metadata.uid (see ConnectionKey).
	UID string
	// UserRef is the application's stable reference for its end user; it
	// survives re-consents, so data of one user stays together.
	UserRef string
	// Provider is the data provider the connection talks to, e.g.
	// "truelayer" or "codat".
	Provider string
}

// Key returns the owner's connection key.
func (o Owner) Key() ConnectionKey {
	return ConnectionKey{Namespace: o.Namespace, Connection: o.Connection, UID: o.UID}
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
