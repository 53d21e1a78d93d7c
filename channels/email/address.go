package email

import "strings"

// replyPrefix starts the local part of every per-delivery reply address.
const replyPrefix = "r-"

// ReplyAddress returns the per-delivery reply address r-DELIVERYID@domain.
func ReplyAddress(deliveryID, domain string) string {
	return replyPrefix + deliveryID + "@" + strings.ToLower(domain)
}

// DeliveryIDFromAddress returns the delivery id of a per-delivery reply
// address at domain (prefix and domain compared case-insensitively, angle
// brackets allowed), and false for any other address.
func DeliveryIDFromAddress(addr, domain string) (string, bool) {
	addr = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(addr), "<"), ">")
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || domain == "" || !strings.EqualFold(addr[at+1:], domain) {
		return "", false
	}
	local := addr[:at]
	if len(local) <= len(replyPrefix) || !strings.EqualFold(local[:len(replyPrefix)], replyPrefix) {
		return "", false
	}
	id := local[len(replyPrefix):]
	if !validDeliveryID(id) {
		return "", false
	}
	return id, true
}

// validDeliveryID accepts ids that can sit unquoted in an address local
// part and a Message-ID: letters, digits, '-', '_' and '.', at most 64.
func validDeliveryID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// atDomain reports whether addr's domain is domain.
func atDomain(addr, domain string) bool {
	at := strings.LastIndexByte(addr, '@')
	return at >= 0 && domain != "" && strings.EqualFold(addr[at+1:], domain)
}
