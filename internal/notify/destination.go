package notify

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// blocked are the addresses no notification goes to unless AllowCIDRs admits them:
// the operator's own pod (loopback, where its metrics, probes and profiler listen),
// link-local ranges (cloud metadata services at 169.254.169.254 and fd00:ec2::254
// live there), and addresses that are not one host.
var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("100.100.100.200/32"), // Alibaba Cloud's metadata service
	netip.MustParsePrefix("224.0.0.0/4"),
	netip.MustParsePrefix("255.255.255.255/32"),
	netip.MustParsePrefix("::/128"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("fd00:ec2::254/128"), // AWS's IPv6 metadata service
	netip.MustParsePrefix("ff00::/8"),
}

// metadataHosts are names of cloud metadata services, refused before any lookup.
var metadataHosts = map[string]bool{
	"metadata.google.internal": true,
	"metadata.goog":            true,
	"metadata":                 true,
	"instance-data":            true,
}

// Policy says which notification URLs may be used. A URL is checked when it is read,
// and every address is checked again when a connection is dialled, so a name that
// resolves to a refused address (DNS rebinding) is refused too.
type Policy struct {
	// AllowHTTP admits http URLs (development and tests); otherwise https only.
	AllowHTTP bool
	// AllowCIDRs admits addresses that are otherwise blocked (loopback in tests).
	AllowCIDRs []netip.Prefix
	// DenyCIDRs refuses more ranges, for example the cluster's pod and Service CIDRs
	// when applications must not receive notifications inside the cluster.
	DenyCIDRs []netip.Prefix
}

// ErrRefused is a destination the policy does not allow.
var ErrRefused = errors.New("notification destination refused")

// CheckURL parses and checks a notification URL.
func (p Policy) CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || !u.IsAbs() {
		return nil, fmt.Errorf("%w: not an absolute URL", ErrRefused)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && p.AllowHTTP:
	default:
		return nil, fmt.Errorf("%w: the scheme must be https", ErrRefused)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: credentials in the URL are not allowed", ErrRefused)
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if metadataHosts[host] {
		return nil, fmt.Errorf("%w: %s is a metadata service", ErrRefused, host)
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		if err := p.CheckAddr(addr); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// CheckAddr checks one address the operator would connect to.
func (p Policy) CheckAddr(addr netip.Addr) error {
	addr = addr.Unmap().WithZone("") // Contains is false for any address with a zone
	for _, pre := range p.DenyCIDRs {
		if pre.Contains(addr) {
			return fmt.Errorf("%w: %s is in a denied range", ErrRefused, addr)
		}
	}
	for _, pre := range p.AllowCIDRs {
		if pre.Contains(addr) {
			return nil
		}
	}
	for _, pre := range blocked {
		if pre.Contains(addr) {
			return fmt.Errorf("%w: %s is a loopback, link-local or metadata address", ErrRefused, addr)
		}
	}
	return nil
}

// Control is a net.Dialer Control function that refuses addresses the policy does
// not allow, after name resolution and before the connection is made.
func (p Policy) Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: unparsable address", ErrRefused)
	}
	return p.CheckAddr(ap.Addr())
}

// ParseCIDRs reads a comma-separated list of CIDRs (a flag's value).
func ParseCIDRs(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		pre, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("parsing CIDR %q: %w", s, err)
		}
		out = append(out, pre.Masked())
	}
	return out, nil
}
