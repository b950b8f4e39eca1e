package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"
)

// The JSON API's part of the load test: GET /api/v1/orgs/demo/clients with
// a personal access token, and POST /api/v1/auth/token (bcrypt-bound).

var newTokenPattern = regexp.MustCompile(`data-testid="new-token">(acc_pat_[A-Za-z0-9_-]+)<`)

// createPAT creates a personal access token for the demo owner through the
// account's token page, as a person would.
func createPAT(base, cookie string) (string, error) {
	form := url.Values{"name": {"loadtest"}, "organization": {"demo"}, "role": {"staff"}, "expires": {"30"}}
	req, _ := http.NewRequest(http.MethodPost, base+"/account/tokens", bytes.NewBufferString(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", cookie)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	m := newTokenPattern.FindSubmatch(body)
	if res.StatusCode != http.StatusCreated || m == nil {
		return "", fmt.Errorf("creating a token answered %d", res.StatusCode)
	}
	return string(m[1]), nil
}

// inspectAPI fetches the API list once: items and SQL round trips.
func inspectAPI(u, token string) (items, trips int, err error) {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer res.Body.Close()
	var env struct {
		Data struct {
			Items []json.RawMessage `json:"items"`
		} `json:"data"`
	}
	if err := json.NewDecoder(res.Body).Decode(&env); err != nil || res.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("API clients list answered %d (%v)", res.StatusCode, err)
	}
	trips, _ = strconv.Atoi(res.Header.Get("X-Debug-SQL-Roundtrips"))
	return len(env.Data.Items), trips, nil
}

// bcryptCost reads the cost of the demo owner's password hash.
func bcryptCost(ctx context.Context, dsn string) (int, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var hash string
	if err := conn.QueryRow(ctx, `SELECT password_hash FROM users WHERE email = 'owner@demo.accute.test'`).Scan(&hash); err != nil {
		return 0, err
	}
	return bcrypt.Cost([]byte(hash))
}

// loginLoad signs the demo owner in through the API in a closed loop:
// each answer is a token pair, each request one bcrypt comparison.
func loginLoad(base string, conns int, d time.Duration) (result, error) {
	body, _ := json.Marshal(map[string]string{"email": "owner@demo.accute.test", "password": demoPassword})
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var mu sync.Mutex
	var all []time.Duration
	errs := 0
	stop := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				t0 := time.Now()
				res, err := client.Post(base+"/api/v1/auth/token", "application/json", bytes.NewReader(body))
				ok := err == nil && res.StatusCode == http.StatusOK
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				mu.Lock()
				if ok {
					all = append(all, time.Since(t0))
				} else {
					errs++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(all) == 0 {
		return result{errors: errs}, errors.New("no login succeeded")
	}
	slices.Sort(all)
	return result{rps: float64(len(all)) / elapsed.Seconds(), p50: all[len(all)*50/100], p99: all[len(all)*99/100], errors: errs}, nil
}
