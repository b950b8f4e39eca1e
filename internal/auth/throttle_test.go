package auth_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"accute/internal/audit"
	"accute/internal/auth"
	"accute/internal/tenant"
	"accute/internal/testutil"
)

// Attempts are counted before the password is checked, so parallel
// guesses cannot slip past the limit.
func TestAuthenticateThrottlesParallelGuesses(t *testing.T) {
	st, _ := testutil.NewStore(t)
	u := testutil.Factory{T: t, Store: st}.User("")
	svc, err := auth.NewService(st, &tenant.Service{Store: st}, "http://localhost", testutil.BcryptCost)
	if err != nil {
		t.Fatal(err)
	}
	ctx := audit.WithRequestInfo(context.Background(), audit.RequestInfo{IP: "192.0.2.1"})
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := svc.Authenticate(ctx, u.Email, "wrong-password")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, auth.ErrInvalidCredentials):
				counts["wrong"]++
			case errors.Is(err, auth.ErrThrottled):
				counts["throttled"]++
			default:
				counts[err.Error()]++
			}
		}()
	}
	wg.Wait()
	if counts["wrong"] != auth.DefaultAccountLimit || counts["throttled"] != 20-auth.DefaultAccountLimit {
		t.Fatalf("outcomes %v", counts)
	}
	_, err = svc.Authenticate(ctx, u.Email, testutil.Password)
	var te *auth.ThrottledError
	if !errors.As(err, &te) || te.RetryAfter <= 0 || te.RetryAfterSeconds() > 15*60 {
		t.Fatalf("right password after the limit: %v", err)
	}
	// Refused attempts do not spend the address's budget.
	other := testutil.Factory{T: t, Store: st}.User("")
	if _, err := svc.Authenticate(ctx, other.Email, testutil.Password); err != nil {
		t.Fatalf("another account from the same address: %v", err)
	}
}
