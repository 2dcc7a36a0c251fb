package gateway

// MaxStateLength bounds a state or ticket read from a request; every value the
// operator issues is well under 1 KiB.
const MaxStateLength = 2048
