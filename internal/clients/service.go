// Package clients manages the firm's clients and their contacts.
package clients

import "accute/internal/store"

// Service implements client operations.
type Service struct {
	Store *store.Store
}
