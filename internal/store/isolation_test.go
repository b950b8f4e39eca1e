package store_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"accute/internal/audit"
	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/store"
	"accute/internal/testutil"
)

// tenantTables lists, from the catalog, every table with an
// organization_id column: the definition of a tenant table.
func tenantTables(t *testing.T, s *store.Store) []string {
	t.Helper()
	rows, err := s.Pool.Query(context.Background(), `
		SELECT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = 'public' AND c.column_name = 'organization_id' AND t.table_type = 'BASE TABLE'
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	if len(out) < 5 {
		t.Fatalf("found only %d tenant tables: %v", len(out), out)
	}
	return out
}

// populate gives org one row in every tenant table the application knows.
func populate(t *testing.T, s *store.Store, f testutil.Factory, org db.Organization, owner db.User) {
	t.Helper()
	ctx := context.Background()
	f.Member(org, f.User(""), "staff")
	role := f.CustomRole(org, "Reviewer", "clients.read")
	_ = role
	client := f.Client(org, "")
	f.Contact(org, client, "Pat Contact")
	err := s.InOrg(ctx, org.ID, func(q *db.Queries) error {
		_, hash := crypto.NewToken()
		if _, err := q.CreateInvitation(ctx, db.CreateInvitationParams{OrganizationID: org.ID, Email: testutil.Unique("inv") + "@example.test", Role: "staff", TokenHash: hash, InvitedBy: &owner.ID, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			return err
		}
		if err := populateSSO(ctx, q, org, owner); err != nil {
			return err
		}
		if err := populateDocuments(ctx, q, org, owner, client); err != nil {
			return err
		}
		if err := populateSCIM(ctx, q, org, owner); err != nil { // isolation_scim_test.go
			return err
		}
		if err := populateAPITokens(ctx, q, org, owner); err != nil { // isolation_api_test.go
			return err
		}
		if err := populateAgents(ctx, q, org, owner); err != nil { // isolation_agents_test.go
			return err
		}
		if err := populatePortal(ctx, q, org, owner, client); err != nil { // isolation_portal_test.go
			return err
		}
		if err := populateRequests(ctx, q, org, owner, client); err != nil { // isolation_requests_test.go
			return err
		}
		if err := populateAI(ctx, q, org, owner); err != nil { // isolation_ai_test.go
			return err
		}
		if err := populateAgentTools(ctx, q, org, owner, client); err != nil { // isolation_agent_tools_test.go
			return err
		}
		if err := populateAgentRuns(ctx, q, org, owner, client); err != nil { // isolation_runs_test.go
			return err
		}
		return audit.Record(ctx, q, audit.Event{OrgID: &org.ID, ActorID: &owner.ID, Action: audit.ClientCreated})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRowLevelSecurityIsolatesEveryTenantTable connects as the runtime role
// with organization A set and checks that no tenant table shows any of
// organization B's rows — for tables found from the catalog, so a new
// table without RLS (or without a fixture here) fails the test.
func TestRowLevelSecurityIsolatesEveryTenantTable(t *testing.T) {
	s, _ := testutil.NewStore(t)
	f := testutil.Factory{T: t, Store: s}
	ctx := context.Background()
	ownerA, ownerB := f.User(""), f.User("")
	orgA, orgB := f.Org(ownerA, "Firm A"), f.Org(ownerB, "Firm B")
	populate(t, s, f, orgA, ownerA)
	populate(t, s, f, orgB, ownerB)

	// The runtime role owns nothing and cannot bypass RLS.
	var role string
	var bypass, super bool
	if err := s.Pool.QueryRow(ctx, `SELECT current_user, rolbypassrls, rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&role, &bypass, &super); err != nil {
		t.Fatal(err)
	}
	if role != store.AppRole || bypass || super {
		t.Fatalf("runtime role %s bypassrls=%v superuser=%v", role, bypass, super)
	}
	var owned int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user`).Scan(&owned); err != nil || owned != 0 {
		t.Fatalf("runtime role owns %d tables (err %v)", owned, err)
	}

	for _, table := range tenantTables(t, s) {
		t.Run(table, func(t *testing.T) {
			var rls, force bool
			if err := s.Pool.QueryRow(ctx, `SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = ('public.' || $1)::regclass`, table).Scan(&rls, &force); err != nil {
				t.Fatal(err)
			}
			if !rls || !force {
				t.Fatalf("row-level security enabled=%v forced=%v", rls, force)
			}
			// Policies read the organization once per query (an init plan,
			// migrations/00114), not once per row through app_org_visible.
			var perRow int
			if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_policies WHERE schemaname = 'public' AND tablename = $1
				AND (coalesce(qual, '') || coalesce(with_check, '')) LIKE '%app_org_visible(%'`, table).Scan(&perRow); err != nil {
				t.Fatal(err)
			}
			if perRow != 0 {
				t.Fatalf("%s has %d policies calling app_org_visible per row; write organization_id = (SELECT app_current_org()) OR (SELECT app_is_platform())", table, perRow)
			}
			q := `SELECT count(*) FROM ` + table + ` WHERE organization_id = $1`
			// In platform mode B's rows exist (the check below is not vacuous).
			var total int
			if err := s.RawAsPlatform(ctx, func(tx pgx.Tx) error {
				return tx.QueryRow(ctx, q, orgB.ID).Scan(&total)
			}); err != nil {
				t.Fatal(err)
			}
			if total == 0 {
				t.Fatalf("no fixture row for organization B in %s: extend populate()", table)
			}
			var seen, all int
			if err := s.RawInOrg(ctx, orgA.ID, func(tx pgx.Tx) error {
				if err := tx.QueryRow(ctx, q, orgB.ID).Scan(&seen); err != nil {
					return err
				}
				return tx.QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE organization_id IS DISTINCT FROM $1`, orgA.ID).Scan(&all)
			}); err != nil {
				t.Fatal(err)
			}
			if seen != 0 || all != 0 {
				t.Fatalf("with organization A set, %s shows %d rows of B and %d rows outside A", table, seen, all)
			}
			// Without any tenant context nothing is visible either.
			var none int
			if err := s.RawNoTenant(ctx, func(tx pgx.Tx) error {
				return tx.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&none)
			}); err != nil {
				t.Fatal(err)
			}
			if none != 0 {
				t.Fatalf("without tenant context %s shows %d rows", table, none)
			}
		})
	}

	// Writing into another organization is refused too.
	err := s.InOrg(ctx, orgA.ID, func(q *db.Queries) error {
		_, err := q.CreateClient(ctx, db.CreateClientParams{OrganizationID: orgB.ID, Name: "Smuggled", Kind: "business"})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "row-level security") {
		t.Fatalf("insert into another organization: %v", err)
	}
}

// populateSSO adds one row to each SAML single sign-on table.
func populateSSO(ctx context.Context, q *db.Queries, org db.Organization, owner db.User) error {
	if err := q.CreateSAMLConnection(ctx, db.CreateSAMLConnectionParams{OrganizationID: org.ID, ID: uuid.New(), SpCertificate: "fixture", SpPrivateKey: []byte{1}}); err != nil {
		return err
	}
	if _, err := q.CreateSAMLGroupRole(ctx, db.CreateSAMLGroupRoleParams{OrganizationID: org.ID, GroupName: "Fixture", Role: "staff"}); err != nil {
		return err
	}
	if _, err := q.CreateSSODomain(ctx, db.CreateSSODomainParams{OrganizationID: org.ID, Domain: testutil.Unique("fixture") + ".example", ClaimedBy: &owner.ID}); err != nil {
		return err
	}
	if err := q.CreateSAMLRequest(ctx, db.CreateSAMLRequestParams{OrganizationID: org.ID, ID: testutil.Unique("id-"), BrowserHash: []byte{1}, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		return err
	}
	if _, err := q.ConsumeSAMLAssertion(ctx, db.ConsumeSAMLAssertionParams{OrganizationID: org.ID, ID: testutil.Unique("id-"), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		return err
	}
	return q.UpsertSAMLIdentity(ctx, db.UpsertSAMLIdentityParams{OrganizationID: org.ID, UserID: owner.ID, NameID: owner.Email})
}

var (
	queryBlock   = regexp.MustCompile(`(?m)^-- name: (\w+)`)
	tenantFilter = regexp.MustCompile(`(?i)\borganization_id\s*=\s*(@organization_id|sqlc\.arg\(\s*'?organization_id'?\s*\)|\$\d+)`)
)

// TestEveryTenantQueryFiltersByOrganization reads queries/*.sql: every
// query that touches a tenant table must filter by (or insert) the
// organization id, unless it is explicitly marked `-- tenant: <why>`.
func TestEveryTenantQueryFiltersByOrganization(t *testing.T) {
	s, _ := testutil.NewStore(t)
	tables := tenantTables(t, s)
	files, err := filepath.Glob("../../queries/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no query files (err %v)", err)
	}
	checked := 0
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		locs := queryBlock.FindAllStringSubmatchIndex(src, -1)
		for i, loc := range locs {
			end := len(src)
			if i+1 < len(locs) {
				end = locs[i+1][0]
			}
			name, body := src[loc[2]:loc[3]], src[loc[0]:end]
			var touched []string
			for _, table := range tables {
				if regexp.MustCompile(`(?i)\b(from|join|into|update)\s+` + table + `\b`).MatchString(body) {
					touched = append(touched, table)
				}
			}
			if len(touched) == 0 {
				continue
			}
			checked++
			if strings.Contains(body, "-- tenant: ") {
				continue
			}
			isInsert := regexp.MustCompile(`(?i)^\s*insert\s+into`).MatchString(stripComments(body))
			if isInsert && strings.Contains(body, "@organization_id") {
				continue
			}
			if !tenantFilter.MatchString(body) {
				t.Errorf("%s: query %s touches %v but does not filter by organization_id", filepath.Base(file), name, touched)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d tenant queries checked; is the parser broken?", checked)
	}
}

func stripComments(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
