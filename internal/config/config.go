// Package config turns the environment into a typed, validated Config.
//
// Validation reports every problem at once. In development, secrets that
// are not set are generated once into the data directory and reused, so
// sessions survive restarts; in production every secret must be given.
package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Environments.
const (
	EnvDevelopment = "development"
	EnvTest        = "test"
	EnvProduction  = "production"
)

// Config is the whole runtime configuration.
type Config struct {
	Env     string // ACCUTE_ENV
	Port    int    // PORT
	BaseURL string // BASE_URL
	DataDir string // ACCUTE_DATA_DIR

	DatabaseURL          string // DATABASE_URL; empty means the embedded development database
	MigrationDatabaseURL string // MIGRATION_DATABASE_URL; defaults to DATABASE_URL
	DatabaseMaxConns     int    // DATABASE_MAX_CONNS

	SessionSecret string // SESSION_SECRET
	EncryptionKey []byte // ENCRYPTION_KEY (base64, 32 bytes)
	JWTSecret     string // JWT_SECRET

	// EncryptionKeysOld are earlier encryption keys, used only to open
	// values sealed before a rotation (ENCRYPTION_KEYS_OLD, comma-separated
	// base64); see internal/crypto.
	EncryptionKeysOld [][]byte

	SeedDemo     bool   // ACCUTE_SEED_DEMO
	DemoPassword string // ACCUTE_DEMO_PASSWORD

	TrustedProxies []*net.IPNet // TRUSTED_PROXIES (comma-separated CIDRs)
	LogLevel       string       // LOG_LEVEL
	BcryptCost     int          // BCRYPT_COST
	LoginIPLimit   int          // LOGIN_IP_LIMIT: failed logins per client address per 15 minutes
	OAuth          OAuth        // OAuth/OIDC sign-in providers (see oauth.go)
	// APIRateLimit is the JSON API's limit per token (per user for JWTs,
	// per address without a token) per minute (API_RATE_LIMIT).
	APIRateLimit int
	// Documents configures file storage, uploads and job workers (see
	// documents.go).
	Documents Documents
	// AI is the platform's default AI provider (see ai.go).
	AI AI
}

// Production reports whether the app runs with production guarantees.
func (c *Config) Production() bool { return c.Env == EnvProduction }

// Lookup reads a variable; os.LookupEnv in real use, a map in tests.
type Lookup func(string) (string, bool)

// Load reads the configuration from the process environment.
func Load() (*Config, error) { return FromEnv(os.LookupEnv) }

// FromEnv builds and validates a Config. The error lists every problem.
func FromEnv(env Lookup) (*Config, error) {
	get := func(k string) string { v, _ := env(k); return strings.TrimSpace(v) }
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	c := &Config{
		Env:                  get("ACCUTE_ENV"),
		BaseURL:              strings.TrimRight(get("BASE_URL"), "/"),
		DataDir:              get("ACCUTE_DATA_DIR"),
		DatabaseURL:          get("DATABASE_URL"),
		MigrationDatabaseURL: get("MIGRATION_DATABASE_URL"),
		SessionSecret:        get("SESSION_SECRET"),
		JWTSecret:            get("JWT_SECRET"),
		DemoPassword:         get("ACCUTE_DEMO_PASSWORD"),
		LogLevel:             strings.ToLower(get("LOG_LEVEL")),
		SeedDemo:             true,
	}
	if c.Env == "" {
		c.Env = EnvDevelopment
	}
	switch c.Env {
	case EnvDevelopment, EnvTest, EnvProduction:
	default:
		bad("ACCUTE_ENV: must be development, test or production, got %q", c.Env)
	}
	if c.DataDir == "" {
		c.DataDir = ".data"
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("LOG_LEVEL: must be debug, info, warn or error, got %q", c.LogLevel)
	}

	c.Port = 8080
	if v := get("PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			bad("PORT: must be a port number between 1 and 65535, got %q", v)
		} else {
			c.Port = p
		}
	}
	c.DatabaseMaxConns = 20
	if v := get("DATABASE_MAX_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 || n > 1000 {
			bad("DATABASE_MAX_CONNS: must be a number between 2 and 1000, got %q", v)
		} else {
			c.DatabaseMaxConns = n
		}
	}
	c.BcryptCost = 12
	if c.Env != EnvProduction {
		c.BcryptCost = 10
	}
	if v := get("BCRYPT_COST"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 4 || n > 16 || (c.Env == EnvProduction && n < 10) {
			bad("BCRYPT_COST: must be between 10 and 16 (4 allowed outside production), got %q", v)
		} else {
			c.BcryptCost = n
		}
	}
	c.LoginIPLimit = 50
	if v := get("LOGIN_IP_LIMIT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 5 || n > 100000 {
			bad("LOGIN_IP_LIMIT: must be a number between 5 and 100000, got %q", v)
		} else {
			c.LoginIPLimit = n
		}
	}
	switch v := get("ACCUTE_SEED_DEMO"); v {
	case "", "1", "true", "yes":
	case "0", "false", "no":
		c.SeedDemo = false
	default:
		bad("ACCUTE_SEED_DEMO: must be 0 or 1, got %q", v)
	}
	if c.Production() {
		// Never seed demo accounts with known addresses in production.
		c.SeedDemo = false
	}
	if c.DemoPassword != "" && len(c.DemoPassword) < 8 {
		bad("ACCUTE_DEMO_PASSWORD: must be at least 8 characters")
	}

	if c.BaseURL == "" {
		c.BaseURL = fmt.Sprintf("http://localhost:%d", c.Port)
		if c.Production() {
			bad("BASE_URL: required in production (the https:// address users reach)")
		}
	} else if u, err := url.Parse(c.BaseURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		bad("BASE_URL: must be an absolute http(s) URL, got %q", c.BaseURL)
	} else if c.Production() && u.Scheme != "https" {
		bad("BASE_URL: must use https in production, got %q", c.BaseURL)
	}

	if c.DatabaseURL != "" {
		if _, err := url.Parse(c.DatabaseURL); err != nil || !(strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://")) {
			bad("DATABASE_URL: must be a postgres:// URL")
		}
	} else if c.Production() {
		bad("DATABASE_URL: required in production")
	}
	if c.MigrationDatabaseURL == "" {
		c.MigrationDatabaseURL = c.DatabaseURL
	}

	for _, cidr := range strings.Split(get("TRUSTED_PROXIES"), ",") {
		cidr = strings.TrimSpace(cidr)
		if cidr == "" {
			continue
		}
		if !strings.Contains(cidr, "/") {
			if ip := net.ParseIP(cidr); ip != nil && ip.To4() != nil {
				cidr += "/32"
			} else {
				cidr += "/128"
			}
		}
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			bad("TRUSTED_PROXIES: %q is not an IP address or CIDR range", cidr)
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, n)
	}

	// Secrets: validate what is given; in development fill the rest from
	// (or into) the data directory.
	encKey := get("ENCRYPTION_KEY")
	var missing []string
	if c.SessionSecret == "" {
		missing = append(missing, "SESSION_SECRET")
	}
	if encKey == "" {
		missing = append(missing, "ENCRYPTION_KEY")
	}
	if c.JWTSecret == "" {
		missing = append(missing, "JWT_SECRET")
	}
	if len(missing) > 0 {
		if c.Production() {
			for _, k := range missing {
				bad("%s: required in production (%s)", k, secretHint(k))
			}
		} else if len(problems) == 0 {
			gen, err := devSecrets(c.DataDir)
			if err != nil {
				bad("generating development secrets in %s: %v", c.DataDir, err)
			} else {
				if c.SessionSecret == "" {
					c.SessionSecret = gen["SESSION_SECRET"]
				}
				if encKey == "" {
					encKey = gen["ENCRYPTION_KEY"]
				}
				if c.JWTSecret == "" {
					c.JWTSecret = gen["JWT_SECRET"]
				}
			}
		}
	}
	if c.SessionSecret != "" && len(c.SessionSecret) < 32 {
		bad("SESSION_SECRET: must be at least 32 characters")
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		bad("JWT_SECRET: must be at least 32 characters")
	}
	if encKey != "" {
		k, err := base64.StdEncoding.DecodeString(encKey)
		if err != nil || len(k) != 32 {
			bad("ENCRYPTION_KEY: must be 32 random bytes, base64-encoded (%s)", secretHint("ENCRYPTION_KEY"))
		} else {
			c.EncryptionKey = k
		}
	}
	for i, v := range strings.Split(get("ENCRYPTION_KEYS_OLD"), ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		k, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(k) != 32 {
			bad("ENCRYPTION_KEYS_OLD: key %d must be 32 bytes, base64-encoded", i+1)
			continue
		}
		if string(k) == string(c.EncryptionKey) {
			bad("ENCRYPTION_KEYS_OLD: key %d is the current ENCRYPTION_KEY", i+1)
			continue
		}
		c.EncryptionKeysOld = append(c.EncryptionKeysOld, k)
	}
	c.APIRateLimit = 600
	if v := get("API_RATE_LIMIT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100_000_000 {
			bad("API_RATE_LIMIT: must be a number of requests per minute between 1 and 100000000, got %q", v)
		} else {
			c.APIRateLimit = n
		}
	}
	c.loadOAuth(get, bad)
	c.loadDocuments(get, bad)
	c.loadAI(get, bad)

	if len(problems) > 0 {
		return nil, &Error{Problems: problems}
	}
	return c, nil
}

func secretHint(k string) string {
	if k == "ENCRYPTION_KEY" {
		return "generate with: openssl rand -base64 32"
	}
	return "generate with: openssl rand -hex 32"
}

// Error lists every configuration problem.
type Error struct{ Problems []string }

func (e *Error) Error() string {
	return "invalid configuration:\n  - " + strings.Join(e.Problems, "\n  - ")
}

// devSecrets loads the generated development secrets, creating them once.
func devSecrets(dir string) (map[string]string, error) {
	path := filepath.Join(dir, "secrets.env")
	out := map[string]string{}
	if b, err := os.ReadFile(path); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
				out[k] = v
			}
		}
		if out["SESSION_SECRET"] != "" && out["ENCRYPTION_KEY"] != "" && out["JWT_SECRET"] != "" {
			return out, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	out = map[string]string{
		"SESSION_SECRET": randomHex(32),
		"ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(randomBytes(32)),
		"JWT_SECRET":     randomHex(32),
	}
	body := "# Generated for development by accute; never used in production.\n" +
		"SESSION_SECRET=" + out["SESSION_SECRET"] + "\n" +
		"ENCRYPTION_KEY=" + out["ENCRYPTION_KEY"] + "\n" +
		"JWT_SECRET=" + out["JWT_SECRET"] + "\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		return nil, err
	}
	return out, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return b
}

func randomHex(n int) string { return fmt.Sprintf("%x", randomBytes(n)) }
