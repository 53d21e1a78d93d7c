package audit

import "context"

type originKey struct{}

// WithOrigin marks every entry recorded under ctx with origin (e.g.
// "cli os_user=ops"), unless the entry sets its own.
func WithOrigin(ctx context.Context, origin string) context.Context {
	return context.WithValue(ctx, originKey{}, origin)
}

// OriginFrom is the origin WithOrigin put in ctx, "" when none.
func OriginFrom(ctx context.Context) string {
	o, _ := ctx.Value(originKey{}).(string)
	return o
}
