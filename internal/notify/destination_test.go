package notify_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/consent-operator/consent-operator/internal/notify"
)

func TestCheckURL(t *testing.T) {
	strict := notify.Policy{}
	dev := notify.Policy{AllowHTTP: true, AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	denyPods := notify.Policy{DenyCIDRs: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")}}
	for _, tc := range []struct {
		name   string
		policy notify.Policy
		url    string
		ok     bool
	}{
		{"https by name", strict, "https://app.example.com/hooks", true},
		{"https to an in-cluster Service", strict, "https://app.my-ns.svc:8443/hooks", true},
		{"https to a private address", strict, "https://10.1.2.3/hooks", true},
		{"http refused", strict, "http://app.example.com/hooks", false},
		{"http allowed by flag", dev, "http://app.example.com/hooks", true},
		{"other schemes refused even in dev", dev, "ftp://app.example.com/", false},
		{"relative", strict, "/hooks", false},
		{"credentials in the URL", strict, "https://user:pw@app.example.com/", false},
		{"loopback", strict, "https://127.0.0.1/", false},
		{"loopback allowed by flag", dev, "http://127.0.0.1:8080/", true},
		{"IPv6 loopback", strict, "https://[::1]/", false},
		{"AWS and GCP metadata address", strict, "https://169.254.169.254/latest/meta-data/", false},
		{"metadata even in dev", dev, "http://169.254.169.254/", false},
		{"IPv4-mapped metadata", strict, "https://[::ffff:169.254.169.254]/", false},
		{"AWS IPv6 metadata", strict, "https://[fd00:ec2::254]/", false},
		{"GCP metadata name", strict, "https://metadata.google.internal/", false},
		{"metadata name with a trailing dot", strict, "https://Metadata.Google.Internal./", false},
		{"unspecified address", strict, "https://0.0.0.0/", false},
		{"a denied range", denyPods, "https://10.244.3.4/", false},
		{"outside the denied range", denyPods, "https://10.245.3.4/", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.policy.CheckURL(tc.url)
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && !errors.Is(err, notify.ErrRefused) {
				t.Fatalf("error %v, want a refusal", err)
			}
		})
	}
}

// The dial-time check catches names that resolve to a refused address.
func TestControlRefusesResolvedAddresses(t *testing.T) {
	p := notify.Policy{}
	for _, tc := range []struct {
		address string
		ok      bool
	}{
		{"93.184.215.14:443", true},
		{"127.0.0.1:8443", false},
		{"169.254.169.254:80", false},
		{"[fe80::1%eth0]:443", false},
		{"[2606:4700::1111]:443", true},
		{"not an address", false},
	} {
		err := p.Control("tcp", tc.address, nil)
		if tc.ok != (err == nil) {
			t.Errorf("%s: error %v, want allowed=%v", tc.address, err, tc.ok)
		}
	}
}

func TestParseCIDRs(t *testing.T) {
	got, err := notify.ParseCIDRs(" 127.0.0.0/8, ::1/128 ,,10.1.2.3/16")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"127.0.0.0/8", "::1/128", "10.1.0.0/16"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if _, err := notify.ParseCIDRs("10.0.0.0/33"); err == nil {
		t.Fatal("accepted an invalid CIDR")
	}
}
