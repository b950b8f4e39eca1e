package auth

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/store"
)

// Device is one signed-in session of a user, as the sessions page lists it.
type Device struct {
	ID        uuid.UUID
	Device    string // "Chrome on Linux"
	IP        string
	CreatedAt time.Time
	LastSeen  time.Time
	Current   bool // the session making the request
}

// Devices lists the user's live sessions, the current one first.
func (s *Sessions) Devices(ctx context.Context, userID uuid.UUID) ([]Device, error) {
	rows, err := db.New(s.pool).ListUserSessions(ctx, db.ListUserSessionsParams{UserID: &userID, CurrentToken: s.Token(ctx)})
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	out := make([]Device, 0, len(rows))
	for _, r := range rows {
		out = append(out, Device{ID: r.ID, Device: DescribeUserAgent(r.UserAgent), IP: r.Ip, CreatedAt: r.CreatedAt, LastSeen: r.LastSeenAt, Current: r.Current})
	}
	return out, nil
}

// Revoke ends one of the user's other sessions: its row goes, so its next
// request finds no session. The current session cannot be revoked here
// (that is logging out): store.ErrNotFound, like another user's session.
func (s *Sessions) Revoke(ctx context.Context, userID uuid.UUID, email string, id uuid.UUID) error {
	return store.MapError(s.inTx(ctx, func(q *db.Queries) error {
		n, err := q.DeleteUserSession(ctx, db.DeleteUserSessionParams{ID: id, UserID: &userID, CurrentToken: s.Token(ctx)})
		if err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
		return audit.Record(ctx, q, audit.Event{ActorID: &userID, ActorEmail: email, Action: audit.SessionRevoked, TargetType: "session", TargetID: id.String()})
	}))
}

// RevokeOthers ends every session of the user but the current one.
func (s *Sessions) RevokeOthers(ctx context.Context, userID uuid.UUID, email string) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(q *db.Queries) error {
		var err error
		if n, err = q.DeleteOtherUserSessions(ctx, db.DeleteOtherUserSessionsParams{UserID: &userID, CurrentToken: s.Token(ctx)}); err != nil {
			return err
		}
		return audit.Record(ctx, q, audit.Event{ActorID: &userID, ActorEmail: email, Action: audit.SessionsRevokedOthers, TargetType: "user", TargetID: userID.String(), Summary: fmt.Sprintf("%d session(s) ended", n)})
	})
	return n, err
}

func (s *Sessions) inTx(ctx context.Context, fn func(q *db.Queries) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(db.New(tx)); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// DescribeUserAgent names a browser and system in plain words, such as
// "Chrome on Linux" or "Safari on iPhone". It is for people, not for
// decisions: the header is whatever the client says.
func DescribeUserAgent(ua string) string {
	if strings.TrimSpace(ua) == "" {
		return "Unknown device"
	}
	browser := ""
	switch {
	case strings.Contains(ua, "Edg/") || strings.Contains(ua, "EdgA/") || strings.Contains(ua, "EdgiOS/"):
		browser = "Edge"
	case strings.Contains(ua, "OPR/") || strings.Contains(ua, "Opera"):
		browser = "Opera"
	case strings.Contains(ua, "SamsungBrowser/"):
		browser = "Samsung Internet"
	case strings.Contains(ua, "Firefox/") || strings.Contains(ua, "FxiOS/"):
		browser = "Firefox"
	case strings.Contains(ua, "Chrome/") || strings.Contains(ua, "CriOS/") || strings.Contains(ua, "Chromium/"):
		browser = "Chrome"
		if strings.Contains(ua, "HeadlessChrome") {
			browser = "Headless Chrome"
		}
	case strings.Contains(ua, "Safari/") && strings.Contains(ua, "Version/"):
		browser = "Safari"
	case strings.HasPrefix(ua, "curl/"):
		return "curl"
	case strings.HasPrefix(ua, "Go-http-client/"):
		return "Go program"
	case strings.HasPrefix(ua, "python-requests/") || strings.HasPrefix(ua, "Python-urllib/"):
		return "Python script"
	}
	system := ""
	switch {
	case strings.Contains(ua, "iPhone"):
		system = "iPhone"
	case strings.Contains(ua, "iPad"):
		system = "iPad"
	case strings.Contains(ua, "Android"):
		system = "Android"
	case strings.Contains(ua, "CrOS"):
		system = "ChromeOS"
	case strings.Contains(ua, "Windows"):
		system = "Windows"
	case strings.Contains(ua, "Mac OS X") || strings.Contains(ua, "Macintosh"):
		system = "macOS"
	case strings.Contains(ua, "Linux"):
		system = "Linux"
	}
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return "Browser on " + system
	}
	return "Unknown device"
}
