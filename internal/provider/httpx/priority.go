package httpx

import "context"

type userPresentKey struct{}

// WithUserPresent marks ctx as work a user waits for in a browser (redeeming a
// consent's code). Such requests do not queue behind background work at the
// host rate limiter: they take the next token at once, and background requests
// wait one slot longer for each.
func WithUserPresent(ctx context.Context) context.Context {
	return context.WithValue(ctx, userPresentKey{}, true)
}

// UserPresent reports whether ctx was marked by WithUserPresent.
func UserPresent(ctx context.Context) bool {
	v, _ := ctx.Value(userPresentKey{}).(bool)
	return v
}
