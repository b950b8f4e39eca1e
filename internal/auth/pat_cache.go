package auth

import (
	"context"
	"sync"
	"time"

	"accute/internal/store"
)

// Personal access tokens checked recently on this instance are kept with
// the access versions their principal was read at (see migrations/00117),
// so that a later read request can skip the full check: its tenant context
// is opened by app_enter_known, which fails the transaction when either
// version has moved since, in the same round trip as the request's first
// statement (store.DeferRequestTx). What a token may do is therefore
// decided by the database on every request, as before; only the principal
// is reused, and only while it is provably current.
const (
	// patKnownFor bounds how long a principal is reused. The full check
	// also records the token's last use (at most once a minute), so it
	// must still run about this often.
	patKnownFor = 30 * time.Second
	// patKnownMax bounds the memory: past it the table starts over.
	patKnownMax = 10000
)

type knownPAT struct {
	res                     PATAuth
	orgVersion, userVersion int64
	at                      time.Time
}

type patKnown struct {
	mu sync.Mutex
	m  map[string]knownPAT // by the token's hash
}

func (k *patKnown) get(hash []byte, now time.Time) (knownPAT, bool) {
	k.mu.Lock()
	e, ok := k.m[string(hash)]
	k.mu.Unlock()
	if !ok || now.Sub(e.at) >= patKnownFor {
		return knownPAT{}, false
	}
	return e, true
}

func (k *patKnown) put(hash []byte, e knownPAT) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil || len(k.m) >= patKnownMax {
		k.m = make(map[string]knownPAT)
	}
	k.m[string(hash)] = e
}

func (k *patKnown) forget(hash []byte) {
	k.mu.Lock()
	delete(k.m, string(hash))
	k.mu.Unlock()
}

// EnterKnownPAT is EnterPAT for a token this instance checked in the last
// patKnownFor, on a route of the same organization: it returns the
// principal found then and a deferred request transaction that confirms it
// (store.ErrAccessChanged from the request's first statement or its
// commit when it no longer holds). ok is false when the token is not known
// (or has expired since); call EnterPAT then.
func (a *APITokens) EnterKnownPAT(ctx context.Context, token, slug string) (res PATAuth, rt *store.RequestTx, ok bool, err error) {
	_, hash, valid := ParsePAT(token)
	if !valid {
		return PATAuth{}, nil, false, nil
	}
	now := time.Now()
	e, found := a.known.get(hash, now)
	if !found || e.res.Principal == nil || e.res.Principal.Org == nil || e.res.Principal.Org.Slug != slug ||
		(e.res.ExpiresAt != nil && !now.Before(*e.res.ExpiresAt)) {
		return PATAuth{}, nil, false, nil
	}
	rt, err = store.DeferRequestTx(ctx, a.Store.Pool, e.res.OrgID, "SELECT app_enter_known($1, $2, $3, $4)",
		e.res.OrgID, e.res.UserID, e.orgVersion, e.userVersion)
	if err != nil {
		return PATAuth{}, nil, false, err
	}
	return e.res, rt, true, nil
}

// ForgetPAT drops what this instance knows of a token (after
// store.ErrAccessChanged).
func (a *APITokens) ForgetPAT(token string) {
	if _, hash, ok := ParsePAT(token); ok {
		a.known.forget(hash)
	}
}
