package kit

import (
	"net"
	"strings"

	"github.com/labstack/echo/v4"
)

// IPExtractor trusts X-Forwarded-For only from the configured proxies, so a
// client cannot choose its own address past the throttles, the rate limiter
// and consent evidence. Echo would otherwise also trust every loopback,
// link-local and private peer; those are turned off, so only the listed
// ranges count.
func IPExtractor(trusted []string) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, cidr := range trusted {
		_, n, err := net.ParseCIDR(strings.TrimSpace(cidr))
		if err == nil {
			opts = append(opts, echo.TrustIPRange(n))
		}
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
