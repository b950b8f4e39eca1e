package handlers

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/tenant"
	"accute/internal/testutil"
)

// orgRoute says what a route under /o/:org needs: the permission, and the
// form a permitted member posts.
type orgRoute struct {
	perm tenant.Permission // "" = any member
	form url.Values
	// portal: a client portal route, for client users linked to the
	// fixture's client (see portal_matrix_test.go).
	portal bool
}

// orgRoutes must list every route under /o/:org; the test fails when the
// router has one that is missing here, so a new route cannot skip the
// isolation checks.
var orgRoutes = map[string]orgRoute{
	"GET /o/:org":        {},
	"POST /o/:org/leave": {},

	"GET /o/:org/clients":                               {perm: tenant.ClientsRead},
	"GET /o/:org/clients/new":                           {perm: tenant.ClientsWrite},
	"POST /o/:org/clients":                              {perm: tenant.ClientsWrite, form: url.Values{"name": {"Matrix Client"}, "kind": {"business"}}},
	"GET /o/:org/clients/:id":                           {perm: tenant.ClientsRead},
	"GET /o/:org/clients/:id/edit":                      {perm: tenant.ClientsWrite},
	"POST /o/:org/clients/:id":                          {perm: tenant.ClientsWrite, form: url.Values{"name": {"Renamed Client"}, "kind": {"business"}}},
	"POST /o/:org/clients/:id/archive":                  {perm: tenant.ClientsWrite},
	"POST /o/:org/clients/:id/restore":                  {perm: tenant.ClientsWrite},
	"POST /o/:org/clients/:id/contacts":                 {perm: tenant.ClientsWrite, form: url.Values{"name": {"New Contact"}}},
	"POST /o/:org/clients/:id/contacts/:contact/delete": {perm: tenant.ClientsWrite},

	"GET /o/:org/members":                 {perm: tenant.MembersRead},
	"POST /o/:org/members/:id/role":       {perm: tenant.MembersManage, form: url.Values{"role": {"manager"}}},
	"POST /o/:org/members/:id/remove":     {perm: tenant.MembersManage},
	"POST /o/:org/invitations":            {perm: tenant.MembersManage, form: url.Values{"email": {"matrix-invitee@example.test"}, "role": {"staff"}}},
	"POST /o/:org/invitations/:id/revoke": {perm: tenant.MembersManage},
	"GET /o/:org/settings":                {perm: tenant.OrganizationManage},
	"POST /o/:org/settings":               {perm: tenant.OrganizationManage, form: url.Values{"name": {"Renamed Firm"}}},
	"GET /o/:org/roles/new":               {perm: tenant.OrganizationManage},
	"POST /o/:org/roles":                  {perm: tenant.OrganizationManage, form: url.Values{"name": {"Matrix Role"}, "permissions": {"clients.read"}}},
	"GET /o/:org/roles/:id/edit":          {perm: tenant.OrganizationManage},
	"POST /o/:org/roles/:id":              {perm: tenant.OrganizationManage, form: url.Values{"name": {"Matrix Role 2"}, "permissions": {"clients.read"}}},
	"POST /o/:org/roles/:id/delete":       {perm: tenant.OrganizationManage},
	"GET /o/:org/audit":                   {perm: tenant.AuditRead},

	"GET /o/:org/documents":                                {perm: tenant.DocumentsRead},
	"POST /o/:org/documents":                               {perm: tenant.DocumentsWrite},
	"POST /o/:org/documents/folders":                       {perm: tenant.DocumentsWrite, form: url.Values{"name": {"Matrix Folder"}}},
	"POST /o/:org/documents/folders/:folder":               {perm: tenant.DocumentsWrite, form: url.Values{"name": {"Renamed Folder"}}},
	"POST /o/:org/documents/folders/:folder/delete":        {perm: tenant.DocumentsWrite},
	"GET /o/:org/documents/:id":                            {perm: tenant.DocumentsRead},
	"POST /o/:org/documents/:id":                           {perm: tenant.DocumentsWrite, form: url.Values{"name": {"Renamed document"}}},
	"GET /o/:org/documents/:id/status":                     {perm: tenant.DocumentsRead},
	"GET /o/:org/documents/:id/download":                   {perm: tenant.DocumentsRead},
	"GET /o/:org/documents/:id/versions/:version/download": {perm: tenant.DocumentsRead},
	"POST /o/:org/documents/:id/versions":                  {perm: tenant.DocumentsWrite},
	"POST /o/:org/documents/:id/archive":                   {perm: tenant.DocumentsWrite},
	"POST /o/:org/documents/:id/restore":                   {perm: tenant.DocumentsWrite},
	"GET /o/:org/documents/search":                         {perm: tenant.DocumentsRead},

	"GET /o/:org/requests":              {perm: tenant.DocumentsRead},
	"GET /o/:org/requests/new":          {perm: tenant.DocumentsWrite},
	"POST /o/:org/requests":             {perm: tenant.DocumentsWrite, form: url.Values{"title": {"Matrix request"}, "due_on": {"2030-01-31"}}},
	"GET /o/:org/requests/:id":          {perm: tenant.DocumentsRead},
	"POST /o/:org/requests/:id/accept":  {perm: tenant.DocumentsWrite},
	"POST /o/:org/requests/:id/reject":  {perm: tenant.DocumentsWrite, form: url.Values{"reason": {"Matrix reason"}}},
	"POST /o/:org/requests/:id/cancel":  {perm: tenant.DocumentsWrite},
	"POST /o/:org/requests/:id/uploads": {perm: tenant.DocumentsWrite},

	"GET /o/:org/portal":                                             {portal: true},
	"GET /o/:org/portal/documents":                                   {portal: true},
	"POST /o/:org/portal/documents":                                  {portal: true},
	"GET /o/:org/portal/documents/:id/download":                      {portal: true},
	"GET /o/:org/portal/documents/:id/status":                        {portal: true},
	"GET /o/:org/portal/kyc":                                         {portal: true},
	"POST /o/:org/portal/kyc/:id/documents":                          {portal: true},
	"POST /o/:org/portal/kyc/:id/documents/:kycdoc/delete":           {portal: true},
	"POST /o/:org/portal/kyc/:id/submit":                             {portal: true},
	"GET /o/:org/portal/requests":                                    {portal: true},
	"GET /o/:org/portal/requests/:id":                                {portal: true},
	"POST /o/:org/portal/requests/:id/uploads":                       {portal: true},
	"POST /o/:org/clients/:id/portal/invitations":                    {perm: tenant.ClientsWrite, form: url.Values{"email": {"matrix-portal@example.test"}}},
	"POST /o/:org/clients/:id/portal/invitations/:invitation/revoke": {perm: tenant.ClientsWrite},
	"POST /o/:org/clients/:id/portal/links":                          {perm: tenant.ClientsWrite, form: url.Values{"user_id": {"not-a-user"}}},
	"POST /o/:org/clients/:id/portal/links/:link/delete":             {perm: tenant.ClientsWrite},
	"POST /o/:org/clients/:id/portal/links/:link/kyc/verify":         {perm: tenant.ClientsWrite},
	"POST /o/:org/clients/:id/portal/links/:link/kyc/reject":         {perm: tenant.ClientsWrite, form: url.Values{"reason": {"Matrix reason"}}},

	"GET /o/:org/agents":                  {perm: tenant.AgentsUse},
	"POST /o/:org/agents/:agent/install":  {perm: tenant.AgentsManage},
	"POST /o/:org/agents/:agent/enable":   {perm: tenant.AgentsManage},
	"POST /o/:org/agents/:agent/disable":  {perm: tenant.AgentsManage},
	"GET /o/:org/agents/:agent/settings":  {perm: tenant.AgentsManage},
	"POST /o/:org/agents/:agent/settings": {perm: tenant.AgentsManage, form: url.Values{"model": {"gpt-4o"}, "temperature": {"0.5"}}},
	"GET /o/:org/settings/ai":             {perm: tenant.OrganizationManage},
	"POST /o/:org/settings/ai":            {perm: tenant.OrganizationManage, form: url.Values{"provider": {"offline"}}},
	"POST /o/:org/settings/ai/test":       {perm: tenant.OrganizationManage},

	// Conversations (agent_helpers_test.go's agentRunFixture: a finished
	// run, so its stream replays and ends).
	"GET /o/:org/agents/:agent":                             {perm: tenant.AgentsUse},
	"POST /o/:org/agents/:agent/conversations":              {perm: tenant.AgentsUse, form: url.Values{"message": {"Matrix question"}}},
	"GET /o/:org/agents/:agent/conversations/:id":           {perm: tenant.AgentsUse},
	"POST /o/:org/agents/:agent/conversations/:id/messages": {perm: tenant.AgentsUse, form: url.Values{"message": {"Matrix follow-up"}}},
	"POST /o/:org/agents/:agent/runs/:id/cancel":            {perm: tenant.AgentsUse},
	"GET /o/:org/agents/:agent/runs/:id/stream":             {perm: tenant.AgentsUse},

	"GET /o/:org/approvals":              {perm: tenant.AgentsApprove},
	"GET /o/:org/approvals/policy":       {perm: tenant.AgentsManage},
	"POST /o/:org/approvals/policy":      {perm: tenant.AgentsManage, form: url.Values{"auto_run": {"create_task_note"}}},
	"GET /o/:org/approvals/:id":          {perm: tenant.AgentsApprove},
	"POST /o/:org/approvals/:id/approve": {perm: tenant.AgentsApprove},
	"POST /o/:org/approvals/:id/reject":  {perm: tenant.AgentsApprove, form: url.Values{"reason": {"Matrix reason"}}},
	"GET /o/:org/usage":                  {perm: tenant.AgentsManage},
	"GET /o/:org/usage.csv":              {perm: tenant.AgentsManage},
	"GET /o/:org/usage/budget":           {perm: tenant.AgentsManage},
	"POST /o/:org/usage/budget":          {perm: tenant.AgentsManage, form: url.Values{"warn_percent": {"80"}, "cap_tokens": {"1000000"}}},

	"GET /o/:org/settings/sso":                     {perm: tenant.OrganizationManage},
	"POST /o/:org/settings/sso":                    {perm: tenant.OrganizationManage, form: url.Values{"default_role": {"staff"}, "source": {"url"}}},
	"POST /o/:org/settings/sso/refresh":            {perm: tenant.OrganizationManage},
	"POST /o/:org/settings/sso/required":           {perm: tenant.OrganizationManage, form: url.Values{"required": {"off"}}},
	"POST /o/:org/settings/sso/groups":             {perm: tenant.OrganizationManage, form: url.Values{"group": {"Matrix Group"}, "role": {"staff"}}},
	"POST /o/:org/settings/sso/groups/:id/delete":  {perm: tenant.OrganizationManage},
	"POST /o/:org/settings/sso/domains":            {perm: tenant.OrganizationManage, form: url.Values{"domain": {"matrix-firm.example"}}},
	"POST /o/:org/settings/sso/domains/:id/delete": {perm: tenant.OrganizationManage},
	"POST /o/:org/settings/mfa":                    {perm: tenant.OrganizationManage, form: url.Values{"require_mfa": {"0"}}},

	"GET /o/:org/settings/scim":                      {perm: tenant.MembersManage},
	"POST /o/:org/settings/scim/tokens":              {perm: tenant.MembersManage, form: url.Values{"name": {"Matrix token"}}},
	"POST /o/:org/settings/scim/tokens/:id/revoke":   {perm: tenant.MembersManage},
	"POST /o/:org/settings/scim/mappings":            {perm: tenant.MembersManage, form: url.Values{"group_name": {"Matrix SCIM group"}, "role": {"staff"}}},
	"POST /o/:org/settings/scim/mappings/:id/delete": {perm: tenant.MembersManage},
}

// fixtures are fresh rows in one organization to fill a route's params.
type fixtures struct {
	client, contact, member, invitation, role string
	ssoGroup, ssoDomain                       string
	document, version, folder                 string
	scimToken, scimMapping                    string
	request                                   string
	portal                                    portalFx
	proposal                                  string
	conversation, run                         string
}

func makeFixtures(t *testing.T, app *testApp, org db.Organization, owner db.User) fixtures {
	t.Helper()
	ctx := context.Background()
	client := app.F.Client(org, "")
	contact := app.F.Contact(org, client, "Fixture Contact")
	m := app.F.Member(org, app.F.User(""), tenant.RoleStaff)
	role := app.F.CustomRole(org, testutil.Unique("Fixture role "), "clients.read")
	var inv db.Invitation
	err := app.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		_, hash := crypto.NewToken()
		var err error
		inv, err = q.CreateInvitation(ctx, db.CreateInvitationParams{OrganizationID: org.ID, Email: testutil.Unique("fixture") + "@example.test",
			Role: tenant.RoleStaff, TokenHash: hash, InvitedBy: &owner.ID, ExpiresAt: time.Now().Add(24 * time.Hour)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var group db.SamlGroupRole
	var domain db.SsoDomain
	err = app.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		var err error
		if group, err = q.CreateSAMLGroupRole(ctx, db.CreateSAMLGroupRoleParams{OrganizationID: org.ID, GroupName: testutil.Unique("Fixture group "), Role: tenant.RoleStaff}); err != nil {
			return err
		}
		domain, err = q.CreateSSODomain(ctx, db.CreateSSODomainParams{OrganizationID: org.ID, Domain: testutil.Unique("fixture") + ".example", ClaimedBy: &owner.ID})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	document, version, folder := documentFixtures(t, app, org, owner)
	scimToken, scimMapping := scimFixtures(t, app, org, owner)
	request := requestFixture(t, app, org, owner)        // requests_test.go
	portal := portalFixtures(t, app, org, owner, client) // portal_matrix_test.go

	proposal := proposalFixture(t, app, org, owner, client) // approvals_test.go

	conversation, run := agentRunFixture(t, app, org, owner) // agent_helpers_test.go
	return fixtures{document: document, version: version, folder: folder, client: client.ID.String(), contact: contact.ID.String(), member: m.ID.String(), invitation: inv.ID.String(), role: role.ID.String(),
		ssoGroup: group.ID.String(), ssoDomain: domain.ID.String(), scimToken: scimToken, scimMapping: scimMapping, request: request, proposal: proposal, portal: portal,
		conversation: conversation, run: run}
}

// fill replaces the route's parameters with the fixtures' ids.
func fill(path, slug string, fx fixtures) string {
	id := ""
	switch {
	case strings.HasPrefix(path, "/o/:org/clients/"):
		id = fx.client
	case strings.HasPrefix(path, "/o/:org/members/"):
		id = fx.member
	case strings.HasPrefix(path, "/o/:org/invitations/"):
		id = fx.invitation
	case strings.HasPrefix(path, "/o/:org/roles/"):
		id = fx.role
	case strings.HasPrefix(path, "/o/:org/settings/sso/groups/"):
		id = fx.ssoGroup
	case strings.HasPrefix(path, "/o/:org/settings/sso/domains/"):
		id = fx.ssoDomain
	case strings.HasPrefix(path, "/o/:org/documents/"):
		id = fx.document
	case strings.HasPrefix(path, "/o/:org/settings/scim/tokens/"):
		id = fx.scimToken
	case strings.HasPrefix(path, "/o/:org/settings/scim/mappings/"):
		id = fx.scimMapping
	case strings.HasPrefix(path, "/o/:org/requests/"):
		id = fx.request
	case strings.HasPrefix(path, "/o/:org/approvals/"):
		id = fx.proposal
	case strings.HasPrefix(path, "/o/:org/agents/:agent/conversations/"):
		id = fx.conversation
	case strings.HasPrefix(path, "/o/:org/agents/:agent/runs/"):
		id = fx.run
	}
	portalID, portalParams := portalFill(path, fx) // portal_matrix_test.go
	if portalID != "" {
		id = portalID
	}
	r := strings.NewReplacer(":org", slug, ":id", id, ":contact", fx.contact, ":folder", fx.folder, ":version", fx.version, ":agent", "luca")
	return portalParams.Replace(r.Replace(path))
}

func do(c *testutil.Client, method, path string, form url.Values) *testutil.Response {
	if method == http.MethodGet {
		return c.Get(path)
	}
	return c.PostForm(path, form)
}

// TestRouteMatrix walks every organization route, taken from the router
// itself: anonymous -> login, another organization's member -> 404, a role
// without the permission -> 403, a permitted member -> success. Client
// users are kept in the client portal (the firm's pages send them there);
// portal routes keep the firm's members out, answer 404 to a client user
// of another client, and succeed for the client user linked to the
// fixtures' client.
func TestRouteMatrix(t *testing.T) {
	app := newTestApp(t)
	ownerC, owner, org := app.owner()
	_, _, otherOrg := app.owner()
	outsider, _ := app.member(otherOrg, tenant.RoleOwner)        // an owner elsewhere, a stranger here
	outsiderClient, _ := app.member(otherOrg, tenant.RoleClient) // a client user elsewhere (portal routes)
	noPerms := noPermsMember(t, app, org)                        // a member whose role grants nothing
	clientUser, _ := app.member(org, tenant.RoleClient)          // a client user: kept in the portal

	var routes []string
	for _, r := range app.Echo.Routes() {
		if !strings.HasPrefix(r.Path, "/o/:org") || strings.HasPrefix(r.Method, "echo_") {
			continue // Echo's internal not-found routes for the group
		}
		key := r.Method + " " + r.Path
		routes = append(routes, key)
		if _, ok := orgRoutes[key]; !ok {
			t.Errorf("route %s is not in the isolation matrix: add it to orgRoutes", key)
		}
	}
	sort.Strings(routes)
	if len(routes) < len(orgRoutes) {
		t.Errorf("matrix lists %d routes, router has %d", len(orgRoutes), len(routes))
	}

	for _, key := range routes {
		spec := orgRoutes[key]
		method, pattern, _ := strings.Cut(key, " ")
		t.Run(key, func(t *testing.T) {
			fx := makeFixtures(t, app, org, owner)
			path := fill(pattern, org.Slug, fx)

			res := do(app.client(), method, path, spec.form)
			if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "/login") {
				t.Errorf("anonymous: %d %q, want 303 to /login", res.StatusCode, res.Location())
			}
			if res := do(outsider, method, path, spec.form); res.StatusCode != http.StatusNotFound {
				t.Errorf("member of another organization: %d, want 404", res.StatusCode)
			}
			// The other organization's own slug with this organization's ids: 404 too.
			if strings.Contains(pattern, ":id") {
				cross := fill(pattern, otherOrg.Slug, fx)
				stranger := outsider
				if spec.portal {
					stranger = outsiderClient // staff never reach the portal's ids
				}
				if res := do(stranger, method, cross, spec.form); res.StatusCode != http.StatusNotFound {
					t.Errorf("ids of another organization under own slug: %d, want 404", res.StatusCode)
				}
			}
			if spec.perm != "" {
				if res := do(noPerms, method, path, spec.form); res.StatusCode != http.StatusForbidden {
					t.Errorf("role without %s: %d, want 403", spec.perm, res.StatusCode)
				}
			}
			if !spec.portal && (spec.perm != "" || key == "GET /o/:org") {
				checkClientUserKeptOut(t, clientUser, method, path, org.Slug, spec)
			}
			if spec.portal {
				checkPortalRoute(t, app, ownerC, method, pattern, path, org.Slug, spec, fx)
			}
			actor := ownerC
			switch {
			case key == "POST /o/:org/leave":
				actor, _ = app.member(org, tenant.RoleStaff) // the owner is the last owner
			case spec.portal:
				actor = app.client() // the client user linked to the fixture's client
				app.login(actor, fx.portal.user.Email)
			}
			res = do(actor, method, path, spec.form)
			switch {
			case method == http.MethodGet && res.StatusCode != http.StatusOK:
				t.Errorf("permitted member: %d, want 200\n%.400s", res.StatusCode, res.Body)
			case method != http.MethodGet && (res.StatusCode >= 400 && res.StatusCode != http.StatusUnprocessableEntity):
				t.Errorf("permitted member: %d, want success\n%.400s", res.StatusCode, res.Body)
			}
		})
	}
}
