package provider

import "fmt"

// Registry holds one Client per provider name ("TrueLayer", "Codat"). The manager
// builds it once at start; reconcilers and the gateway share its clients.
type Registry map[string]Client

// For returns the client for a provider name.
func (r Registry) For(name string) (Client, error) {
	c, ok := r[name]
	if !ok {
		return nil, fmt.Errorf("provider %s is not enabled in this manager", name)
	}
	return c, nil
}
