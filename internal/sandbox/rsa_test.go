package sandbox_test

import (
	"crypto/rsa"
	"math/big"
)

type rsaPublicKey struct {
	N *big.Int
	E int
}

func (k *rsaPublicKey) key() *rsa.PublicKey { return &rsa.PublicKey{N: k.N, E: k.E} }
