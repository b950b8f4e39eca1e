package config

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestEncryptionKeysOldAndLoginIPLimit(t *testing.T) {
	key := func(b byte) string {
		return base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(rune(b)), 32)))
	}
	base := map[string]string{
		"ACCUTE_ENV": "test", "SESSION_SECRET": strings.Repeat("s", 32), "JWT_SECRET": strings.Repeat("j", 32),
		"ENCRYPTION_KEY": key('a'), "ACCUTE_DATA_DIR": t.TempDir(),
	}
	load := func(extra map[string]string) (*Config, error) {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for k, v := range extra {
			env[k] = v
		}
		return FromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	}

	c, err := load(nil)
	if err != nil || len(c.EncryptionKeysOld) != 0 || c.LoginIPLimit != 50 {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	c, err = load(map[string]string{"ENCRYPTION_KEYS_OLD": key('b') + " , " + key('c'), "LOGIN_IP_LIMIT": "200"})
	if err != nil || len(c.EncryptionKeysOld) != 2 || c.LoginIPLimit != 200 {
		t.Fatalf("set: %+v %v", c, err)
	}
	_, err = load(map[string]string{"ENCRYPTION_KEYS_OLD": "short," + key('a'), "LOGIN_IP_LIMIT": "0"})
	if err == nil {
		t.Fatal("bad values accepted")
	}
	for _, want := range []string{"ENCRYPTION_KEYS_OLD: key 1", "ENCRYPTION_KEYS_OLD: key 2 is the current ENCRYPTION_KEY", "LOGIN_IP_LIMIT"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}
