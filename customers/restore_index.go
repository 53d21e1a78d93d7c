package customers

import "github.com/handoverhq/handover/pii"

// AddressIndexes opens a customer's sealed personal fields (pii_enc) with
// their data key and returns the blind indexes of their phone, email and
// openid ("" for one they have not): what a restore puts back after a
// data backup, which carries no blind index.
func (s *Store) AddressIndexes(dk *pii.DataKey, id, enc string) (phone, email, openid string, err error) {
	if enc == "" {
		return "", "", "", nil
	}
	p, err := OpenPersonal(dk, id, enc)
	if err != nil {
		return "", "", "", err
	}
	return s.vault.Index.Phone(p.Phone), s.vault.Index.Email(p.Email), s.vault.Index.OpenID(p.WeChatOpenID), nil
}
