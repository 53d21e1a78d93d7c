package pii

import (
	"context"
	"encoding/json"
	"errors"
)

// Envelope is a record sealed under a data key of its own, for personal
// data that belongs to no customer yet (an inbound message from an unknown
// sender): deleting the row destroys the key. Once the record's customer
// is known it is sealed under the customer's data key instead (KeyID
// CustomerKeyed, no Wrapped): destroying that key in the key store
// (erasure, destruction) makes the record unreadable in every backup too.
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

// CustomerKeyed is the KeyID of an envelope sealed under its customer's
// data key rather than a key of its own.
const CustomerKeyed = "customer"

// ErrShredded is returned when a record's customer key was destroyed.
var ErrShredded = errors.New("the customer's data key was destroyed")

// SealForCustomer seals v (marshalled as JSON) under the customer's data
// key dk, bound to context.
func SealForCustomer(dk *DataKey, v any, context string) (Envelope, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Envelope{}, err
	}
	return Envelope{KeyID: CustomerKeyed, Sealed: dk.Seal(string(b), context)}, nil
}

// OpenCustomerEnvelope opens an envelope of customerID's: sealed under
// their data key (loaded from the key store through q) or under a key of
// its own. It returns ErrShredded when the customer's key was destroyed.
func (k *Keyring) OpenCustomerEnvelope(ctx context.Context, q Querier, customerID string, e Envelope, context string, v any) error {
	if e.KeyID != CustomerKeyed {
		return k.OpenEnvelope(e, context, v)
	}
	keys, err := k.CustomerKeys(ctx, q, []string{customerID})
	if err != nil {
		return err
	}
	return OpenWith(keys[customerID], e, context, v)
}

// OpenWith opens an envelope sealed by SealForCustomer with the customer's
// key dk; a nil dk (the key was destroyed) gives ErrShredded.
func OpenWith(dk *DataKey, e Envelope, context string, v any) error {
	if dk == nil {
		return ErrShredded
	}
	s, err := dk.Open(e.Sealed, context)
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(s), v)
}
