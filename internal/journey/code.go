package journey

// SealCode seals an authorization code for the reconciler. The gateway writes the
// result into status.handoff; binding it to the connection and journey means a sealed
// code copied into another connection's status opens nowhere.
func (k *Keys) SealCode(code string, c Binding) (string, error) {
	return k.seal(purposeCode, []byte(code), c.aad())
}

// OpenCode opens a code sealed by SealCode for the same connection and journey.
func (k *Keys) OpenCode(sealed string, c Binding) (string, error) {
	plain, err := k.open(purposeCode, sealed, c.aad())
	if err != nil {
		return "", err
	}
	return string(plain), nil
}

// Binding names one journey of one connection.
type Binding struct{ Namespace, Name, UID, Nonce string }

func (b Binding) aad() []byte {
	return []byte(b.Namespace + "\x00" + b.Name + "\x00" + b.UID + "\x00" + b.Nonce)
}
