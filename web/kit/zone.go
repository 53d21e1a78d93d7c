package kit

import "time"

// LoadZone is the time zone named, China Standard Time when the name is
// not one.
func LoadZone(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}
