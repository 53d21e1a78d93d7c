package staff

import (
	"context"

	"github.com/handoverhq/handover"
)

// FirstAdmin holds the credentials generated for the first admin.
type FirstAdmin struct {
	Email    string
	Password string
	Token    string
}

// Bootstrap creates the first admin when there are no staff at all, and
// returns its generated credentials (to be shown once). It returns nil when
// staff already exist.
func (s *Store) Bootstrap(ctx context.Context, email string) (*FirstAdmin, error) {
	n, err := s.CountMembers(ctx)
	if err != nil || n > 0 {
		return nil, err
	}
	first := &FirstAdmin{Email: email, Password: GeneratePassword()}
	err = s.CreateMember(ctx, &Member{Email: email, Name: "Admin", Role: Admin}, first.Password, "system")
	if handover.ErrorCode(err) == handover.ECONFLICT {
		return nil, nil // another process bootstrapped at the same moment
	}
	if err != nil {
		return nil, err
	}
	if first.Token, err = s.CreateAPIToken(ctx, email, "first admin", "system"); err != nil {
		return nil, err
	}
	return first, nil
}
