package tenant

import (
	"regexp"
	"strings"
	"testing"
)

// ValidSlug is the organizations.slug CHECK constraint's pattern.
func TestValidSlugMatchesTheConstraint(t *testing.T) {
	pattern := regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$`)
	cases := []string{"", "a", "-", "a-", "-a", "a-b", "a--b", "demo", "Demo", "d_e", "dé", "a.b", "a b", "0", "9-9",
		strings.Repeat("a", 47), strings.Repeat("a", 48), strings.Repeat("a", 49), "a" + strings.Repeat("-", 46) + "b", "a" + strings.Repeat("-", 47) + "b",
		"acme-2026", "x\n", "\x00"}
	// Every string of up to three characters over an alphabet with the
	// edges of each allowed range and their neighbours.
	alphabet := []string{"a", "z", "0", "9", "-", "`", "{", "/", ":", "A", "_", "é"}
	var walk func(prefix string, n int)
	walk = func(prefix string, n int) {
		cases = append(cases, prefix)
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			walk(prefix+c, n-1)
		}
	}
	walk("", 3)
	for _, s := range cases {
		if got, want := ValidSlug(s), pattern.MatchString(s); got != want {
			t.Errorf("ValidSlug(%q) = %v, want %v", s, got, want)
		}
	}
}
