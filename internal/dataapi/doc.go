// Package dataapi serves the data the operator stores to the applications that own
// the end users, so an application needs neither the database's credentials (which
// open every tenant's rows) nor a volume it cannot mount.
//
// The API is JSON over HTTPS on its own cluster-internal port. A caller presents its
// ServiceAccount token; the apiserver says who it is (TokenReview) and whether it may
// read (`get`) or erase (`delete`) the subresource `bankconnections/data` in the
// namespace (SubjectAccessReview), for one connection by name or, without a name, for
// every user of the namespace. Tenants are namespaces: a grant in one namespace reaches
// nothing in another, and a refusal says nothing about what exists.
package dataapi
