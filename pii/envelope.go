package pii

import "encoding/json"

// Envelope is a record sealed under a data key of its own: for personal
// data that belongs to no customer yet (an inbound message from an unknown
// sender, a recorded devbox message). Deleting the row destroys the key.
type Envelope struct {
	KeyID   string
	Wrapped string
	Sealed  string
}

// SealEnvelope seals v (marshalled as JSON) under a fresh data key bound to
// context (e.g. "inbound/ID").
func (k *Keyring) SealEnvelope(v any, context string) (Envelope, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Envelope{}, err
	}
	dk, w, err := k.NewDataKey()
	if err != nil {
		return Envelope{}, err
	}
	return Envelope{KeyID: w.KeyID, Wrapped: w.Wrapped, Sealed: dk.Seal(string(b), context)}, nil
}

// OpenEnvelope opens what SealEnvelope sealed into v.
func (k *Keyring) OpenEnvelope(e Envelope, context string, v any) error {
	dk, err := k.Unwrap(WrappedKey{KeyID: e.KeyID, Wrapped: e.Wrapped})
	if err != nil {
		return err
	}
	s, err := dk.Open(e.Sealed, context)
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(s), v)
}
