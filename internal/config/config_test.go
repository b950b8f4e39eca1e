package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func lookup(m map[string]string) Lookup {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestProductionListsEveryMissingSecretAtOnce(t *testing.T) {
	_, err := FromEnv(lookup(map[string]string{"ACCUTE_ENV": "production", "ACCUTE_DATA_DIR": t.TempDir()}))
	if err == nil {
		t.Fatal("production started without secrets")
	}
	for _, want := range []string{"DATABASE_URL", "SESSION_SECRET", "ENCRYPTION_KEY", "JWT_SECRET", "BASE_URL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
}

func TestProductionRequiresHTTPSBaseURL(t *testing.T) {
	env := map[string]string{
		"ACCUTE_ENV": "production", "DATABASE_URL": "postgres://app@db/accute", "BASE_URL": "http://accute.example",
		"SESSION_SECRET": strings.Repeat("s", 32), "JWT_SECRET": strings.Repeat("j", 32),
		"ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
	}
	if _, err := FromEnv(lookup(env)); err == nil || !strings.Contains(err.Error(), "https") {
		t.Fatalf("want https error, got %v", err)
	}
	env["BASE_URL"] = "https://accute.example"
	cfg, err := FromEnv(lookup(env))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SeedDemo || cfg.BcryptCost < 12 || !cfg.Production() {
		t.Fatalf("production config: seed=%v cost=%d", cfg.SeedDemo, cfg.BcryptCost)
	}
}

func TestInvalidValuesAreAllReported(t *testing.T) {
	_, err := FromEnv(lookup(map[string]string{
		"PORT": "http", "ACCUTE_ENV": "staging", "ENCRYPTION_KEY": "short", "TRUSTED_PROXIES": "10.0.0.0/8,nonsense",
		"DATABASE_URL": "mysql://x", "LOG_LEVEL": "loud", "ACCUTE_DATA_DIR": t.TempDir(),
	}))
	if err == nil {
		t.Fatal("accepted invalid values")
	}
	var ce *Error
	if !asError(err, &ce) || len(ce.Problems) < 6 {
		t.Fatalf("want every problem listed, got %v", err)
	}
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	*target = e
	return ok
}

func TestDevelopmentGeneratesSecretsOnceAndReusesThem(t *testing.T) {
	dir := t.TempDir()
	a, err := FromEnv(lookup(map[string]string{"ACCUTE_DATA_DIR": dir}))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.EncryptionKey) != 32 || len(a.SessionSecret) < 32 || len(a.JWTSecret) < 32 {
		t.Fatal("secrets not generated")
	}
	info, err := os.Stat(filepath.Join(dir, "secrets.env"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("secrets file: %v %v", info, err)
	}
	b, err := FromEnv(lookup(map[string]string{"ACCUTE_DATA_DIR": dir}))
	if err != nil {
		t.Fatal(err)
	}
	if a.SessionSecret != b.SessionSecret || string(a.EncryptionKey) != string(b.EncryptionKey) || a.JWTSecret != b.JWTSecret {
		t.Fatal("secrets not reused across starts")
	}
	if a.Port != 8080 || a.BaseURL != "http://localhost:8080" || !a.SeedDemo {
		t.Fatalf("defaults: %+v", a)
	}
}

func TestTrustedProxiesAcceptAddressesAndRanges(t *testing.T) {
	cfg, err := FromEnv(lookup(map[string]string{"ACCUTE_DATA_DIR": t.TempDir(), "TRUSTED_PROXIES": "10.1.2.3, 192.168.0.0/16, ::1"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.TrustedProxies) != 3 || cfg.TrustedProxies[0].String() != "10.1.2.3/32" {
		t.Fatalf("proxies: %v", cfg.TrustedProxies)
	}
}
