package bankdata

import (
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math/big"
	"math/rand/v2"
)

// Every value of a Dataset is derived from hashes of (seed, user, ...) so that
// any part can be regenerated in isolation.

// splitmix64 is a fast, well-distributed 64-bit mixer.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func mix(parts ...uint64) uint64 {
	h := uint64(0x6a09e667f3bcc908)
	for _, p := range parts {
		h = splitmix64(h ^ p)
	}
	return h
}

func hashString(s string) uint64 {
	f := fnv.New64a()
	_, _ = f.Write([]byte(s)) // hash.Hash.Write never fails
	return f.Sum64()
}

// rng returns a deterministic generator for the given key.
func rngFor(parts ...uint64) *rand.Rand {
	h := mix(parts...)
	return rand.New(rand.NewPCG(h, splitmix64(h)))
}

// hexID returns 32 lowercase hex characters derived from the key.
func hexID(parts ...uint64) string {
	a := mix(parts...)
	b := splitmix64(a ^ 0x5bd1e995)
	var buf [16]byte
	for i := 0; i < 8; i++ {
		buf[i] = byte(a >> (8 * i))
		buf[8+i] = byte(b >> (8 * i))
	}
	return hex.EncodeToString(buf[:])
}

const base36 = "0123456789abcdefghijklmnopqrstuvwxyz"

// b36 returns n base-36 characters derived from the key.
func b36(n int, parts ...uint64) string {
	h := mix(parts...)
	out := make([]byte, n)
	for i := range out {
		if i%12 == 0 && i > 0 {
			h = splitmix64(h)
		}
		out[i] = base36[h%36]
		h /= 36
	}
	return string(out)
}

// digits returns n decimal digits derived from the key.
func digits(n int, parts ...uint64) string {
	h := mix(parts...)
	out := make([]byte, n)
	for i := range out {
		if i%18 == 0 && i > 0 {
			h = splitmix64(h)
		}
		out[i] = byte('0' + h%10)
		h /= 10
	}
	return string(out)
}

// ukIBAN builds a GB IBAN with valid ISO 13616 check digits.
func ukIBAN(bank, sortCode, number string) string {
	bban := bank + sortCode + number
	check := ibanCheckDigits("GB", bban)
	return fmt.Sprintf("GB%02d%s", check, bban)
}

func ibanCheckDigits(country, bban string) int {
	rearranged := bban + country + "00"
	var numeric []byte
	for _, c := range rearranged {
		switch {
		case c >= '0' && c <= '9':
			numeric = append(numeric, byte(c))
		case c >= 'A' && c <= 'Z':
			numeric = append(numeric, []byte(fmt.Sprintf("%d", c-'A'+10))...)
		}
	}
	n, _ := new(big.Int).SetString(string(numeric), 10) // only digits were appended
	mod := new(big.Int).Mod(n, big.NewInt(97)).Int64()
	return int(98 - mod)
}

// ValidIBAN reports whether s has valid IBAN check digits (mod 97 == 1).
func ValidIBAN(s string) bool {
	if len(s) < 5 {
		return false
	}
	return ibanCheckDigits(s[:2], s[4:]) == atoi2(s[2:4])
}

func atoi2(s string) int {
	if len(s) != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return -1
	}
	return int(s[0]-'0')*10 + int(s[1]-'0')
}
