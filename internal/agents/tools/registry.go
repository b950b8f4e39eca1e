// Package tools is what AI agents can do: read tools (search the firm's
// documents and clients, read a client, list document requests) that answer
// at once, and action tools (create a document request, e-mail a client
// contact, add a note to a client) that become proposals in an approval
// queue. A proposal runs when a person with agents.approve approves it, as
// proposed or edited, or at once when the organization's policy lets that
// action run without approval (it is still recorded, as executed); a
// rejection records its reason. Every step is in the audit trail.
//
// Every call is confined to the organization and to the permissions of the
// member whose run it is: a tool the member's role does not allow answers
// that it is not permitted. Problems with the model's arguments are
// answered to the model in the tool result, in words it can act on; Go
// errors are for infrastructure failures only.
package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"accute/internal/agents/provider"
	"accute/internal/db"
	"accute/internal/requests"
	"accute/internal/store"
	"accute/internal/tenant"
)

// Tool names. They are the names in the agent catalogue
// (internal/agents/catalog.go), which a test checks.
const (
	SearchDocuments       = provider.SearchToolName // "search_documents"
	ReadClient            = "read_client"
	ListDocumentRequests  = "list_document_requests"
	CreateDocumentRequest = "create_document_request"
	DraftClientEmail      = "draft_client_email"
	CreateTaskNote        = "create_task_note"
)

// Invocation is who calls a tool, for what: the organization, the member
// whose run it is, the run, the agent, and the client the conversation is
// about (if any), which action tools default to.
type Invocation struct {
	OrgID     uuid.UUID
	UserID    uuid.UUID
	RunID     uuid.UUID
	ClientID  *uuid.UUID
	AgentSlug string
}

// Result is a tool's answer: Content goes back to the model (JSON for the
// read tools; words for refusals and bad arguments), Citations are the
// passages it may cite (search_documents and read_client), ProposalID the
// proposal an action tool recorded.
type Result struct {
	Content    string
	Citations  []provider.Passage
	ProposalID *uuid.UUID
}

// DocumentRequests creates document requests (requests.Service). Create
// runs in the request's transaction when ctx carries one (an approval in
// the browser or the API).
type DocumentRequests interface {
	Create(ctx context.Context, a requests.Actor, in requests.Input) (requests.Request, error)
}

// Registry is the set of tools. The zero value serves every tool except
// create_document_request, which needs Requests.
type Registry struct {
	Requests DocumentRequests
	// Now is the clock (time.Now when nil), for due dates in tests.
	Now func() time.Time
}

func (r *Registry) now() time.Time {
	if r != nil && r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// tool is one tool: its schema, the permission it needs, and either a read
// function or an action.
type tool struct {
	name        string
	description string
	params      []param
	perm        tenant.Permission
	read        func(ctx context.Context, c *callCtx) (Result, error)
	action      *Action
}

// param is one argument of a tool's JSON Schema.
type param struct {
	name        string
	kind        string // "string", "integer", "boolean", "array" (of strings)
	description string
	required    bool
	enum        []string
	format      string // "uuid", "date", "email"
}

func (t *tool) spec() provider.Tool {
	props := map[string]any{}
	var required []string
	for _, p := range t.params {
		s := map[string]any{"type": p.kind, "description": p.description}
		if p.kind == "array" {
			s["items"] = map[string]any{"type": "string"}
		}
		if len(p.enum) > 0 {
			s["enum"] = p.enum
		}
		if p.format != "" {
			s["format"] = p.format
		}
		props[p.name] = s
		if p.required {
			required = append(required, p.name)
		}
	}
	schema := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		schema["required"] = required
	}
	return provider.Tool{Name: t.name, Description: t.description, Parameters: schema}
}

// tools lists every tool, in a fixed order.
func (r *Registry) tools() []*tool {
	return []*tool{searchTool(), readClientTool(), listRequestsTool(r),
		actionTool(requestAction(r)), actionTool(emailAction()), actionTool(noteAction())}
}

func (r *Registry) find(name string) *tool {
	for _, t := range r.tools() {
		if t.name == name {
			return t
		}
	}
	return nil
}

// Names lists every tool's name.
func (r *Registry) Names() []string {
	var out []string
	for _, t := range r.tools() {
		out = append(out, t.name)
	}
	return out
}

// Specs returns the schemas of the allowed tools (an agent's list from the
// registry), in the registry's order; unknown names are left out.
func (r *Registry) Specs(allowed []string) []provider.Tool {
	var out []provider.Tool
	for _, t := range r.tools() {
		if slices.Contains(allowed, t.name) {
			out = append(out, t.spec())
		}
	}
	return out
}

// callCtx is one call being served.
type callCtx struct {
	r     *Registry
	q     *db.Queries
	inv   Invocation
	call  provider.ToolCall
	perms tenant.PermissionSet
	args  map[string]any
}

// Call runs a tool call in q's transaction (which must be in inv.OrgID).
func (r *Registry) Call(ctx context.Context, q *db.Queries, inv Invocation, call provider.ToolCall) (Result, error) {
	t := r.find(call.Name)
	if t == nil {
		return text(fmt.Sprintf("There is no tool named %q. The tools are: %s.", call.Name, strings.Join(r.Names(), ", "))), nil
	}
	agent, err := q.GetAgent(ctx, inv.AgentSlug)
	if errors.Is(store.MapError(err), store.ErrNotFound) {
		return text("This agent is not in the registry, so it cannot use tools."), nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("tools: %s: agent: %w", call.Name, err)
	}
	if !slices.Contains(agent.Tools, t.name) {
		return text(fmt.Sprintf("The tool %s is not available to %s. Its tools are: %s.", t.name, agent.Name, strings.Join(agent.Tools, ", "))), nil
	}
	perms, err := PermissionsOf(ctx, q, inv.OrgID, inv.UserID)
	if err != nil {
		return Result{}, fmt.Errorf("tools: %s: permissions: %w", call.Name, err)
	}
	if !perms.Has(t.perm) {
		return text(notPermitted(t.perm)), nil
	}
	args, problem := decodeArgs(call.Arguments, t.params)
	if problem != "" {
		return text(problem), nil
	}
	c := &callCtx{r: r, q: q, inv: inv, call: call, perms: perms, args: args}
	var res Result
	if t.read != nil {
		res, err = t.read(ctx, c)
	} else {
		res, err = r.propose(ctx, c, t.action)
	}
	if err != nil {
		return Result{}, fmt.Errorf("tools: %s: %w", call.Name, err)
	}
	return res, nil
}

func text(s string) Result { return Result{Content: s} }

// notPermitted words a refusal for the model to pass on.
func notPermitted(p tenant.Permission) string {
	label := string(p)
	for _, info := range tenant.AllPermissions {
		if info.Key == p {
			label = info.Label
		}
	}
	return fmt.Sprintf("Not permitted: the member you are working for does not have the %q permission (%s) in this organization, "+
		"so this tool cannot be used for them. Tell them so; an administrator can change their role.", label, p)
}

// PermissionsOf resolves what userID may do in orgID, from their
// membership and custom role, in q (empty when they are not a member).
func PermissionsOf(ctx context.Context, q *db.Queries, orgID, userID uuid.UUID) (tenant.PermissionSet, error) {
	m, err := q.GetMembershipByUser(ctx, db.GetMembershipByUserParams{OrganizationID: orgID, UserID: userID})
	if errors.Is(store.MapError(err), store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var custom []string
	if m.Role == tenant.RoleCustom && m.CustomRoleID != nil {
		r, err := q.GetRole(ctx, db.GetRoleParams{OrganizationID: orgID, ID: *m.CustomRoleID})
		if err != nil && !errors.Is(store.MapError(err), store.ErrNotFound) {
			return nil, err
		}
		custom = r.Permissions
	}
	return tenant.PermissionsFor(m.Role, custom), nil
}

// decodeArgs reads the model's JSON arguments against params: unknown
// names, wrong types and missing required ones are problems told to the
// model.
func decodeArgs(raw string, params []param) (map[string]any, string) {
	args := map[string]any{}
	if strings.TrimSpace(raw) != "" {
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&args); err != nil {
			return nil, "The arguments are not a JSON object (" + err.Error() + "). Call the tool again with a JSON object."
		}
	}
	known := map[string]param{}
	for _, p := range params {
		known[p.name] = p
	}
	var problems []string
	names := make([]string, 0, len(args))
	for k := range args {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		p, ok := known[k]
		if !ok {
			problems = append(problems, fmt.Sprintf("%q is not an argument of this tool", k))
			continue
		}
		v := args[k]
		if v == nil {
			delete(args, k)
			continue
		}
		switch p.kind {
		case "string":
			if _, ok := v.(string); !ok {
				problems = append(problems, fmt.Sprintf("%s must be a string", k))
			}
		case "boolean":
			if _, ok := v.(bool); !ok {
				problems = append(problems, fmt.Sprintf("%s must be true or false", k))
			}
		case "integer":
			n, ok := v.(json.Number)
			if _, err := n.Int64(); !ok || err != nil {
				problems = append(problems, fmt.Sprintf("%s must be a whole number", k))
			}
		case "array":
			list, ok := v.([]any)
			if !ok {
				problems = append(problems, fmt.Sprintf("%s must be an array of strings", k))
				break
			}
			for _, it := range list {
				if _, ok := it.(string); !ok {
					problems = append(problems, fmt.Sprintf("%s must be an array of strings", k))
					break
				}
			}
		}
	}
	for _, p := range params {
		if _, ok := args[p.name]; p.required && !ok {
			problems = append(problems, fmt.Sprintf("%s is required", p.name))
		}
	}
	if len(problems) > 0 {
		return nil, "The arguments need correcting: " + strings.Join(problems, "; ") + ". Call the tool again with corrected arguments."
	}
	return args, ""
}

// str returns a string argument (trimmed; "" when absent).
func (c *callCtx) str(name string) string {
	s, _ := c.args[name].(string)
	return strings.TrimSpace(s)
}

// integer returns an integer argument, or def when absent.
func (c *callCtx) integer(name string, def int) int {
	if n, ok := c.args[name].(json.Number); ok {
		if v, err := n.Int64(); err == nil {
			return int(max(min(v, 1<<31-1), -1<<31))
		}
	}
	return def
}

// boolean returns a boolean argument (false when absent).
func (c *callCtx) boolean(name string) bool {
	b, _ := c.args[name].(bool)
	return b
}

// lines returns an array argument as one string per line.
func (c *callCtx) lines(name string) string {
	list, _ := c.args[name].([]any)
	var out []string
	for _, it := range list {
		if s, _ := it.(string); strings.TrimSpace(s) != "" {
			out = append(out, strings.TrimSpace(strings.ReplaceAll(s, "\n", " ")))
		}
	}
	return strings.Join(out, "\n")
}

// clientArg reads a client id argument (or, when absent, the
// conversation's client): nil with a problem for the model when it is not
// a UUID.
func (c *callCtx) clientArg(name string) (*uuid.UUID, string) {
	s := c.str(name)
	if s == "" {
		return c.inv.ClientID, ""
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return nil, fmt.Sprintf("%s %q is not a client id (a UUID). Use search_documents or read_client with the client's name to find it.", name, s)
	}
	return &id, ""
}

// jsonResult marshals v as the tool's content.
func jsonResult(v any, cites []provider.Passage) (Result, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Result{}, err
	}
	return Result{Content: string(b), Citations: cites}, nil
}
