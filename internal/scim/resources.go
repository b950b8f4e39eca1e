package scim

import (
	"strings"
	"time"
)

// Meta is a resource's metadata.
type Meta struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created"`
	LastModified string `json:"lastModified"`
	Location     string `json:"location"`
}

// Name is a user's name.
type Name struct {
	Formatted  string `json:"formatted,omitempty"`
	GivenName  string `json:"givenName,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
}

// Email is one of a user's addresses.
type Email struct {
	Value   string `json:"value"`
	Type    string `json:"type"`
	Primary bool   `json:"primary"`
}

// Ref points at another resource (a user's group, a group's member).
type Ref struct {
	Value   string `json:"value"`
	Ref     string `json:"$ref"`
	Display string `json:"display,omitempty"`
}

// User is the User resource as answered.
type User struct {
	Schemas     []string `json:"schemas"`
	ID          string   `json:"id"`
	ExternalID  string   `json:"externalId,omitempty"`
	UserName    string   `json:"userName"`
	Name        *Name    `json:"name,omitempty"`
	DisplayName string   `json:"displayName,omitempty"`
	Emails      []Email  `json:"emails,omitempty"`
	Active      bool     `json:"active"`
	Groups      []Ref    `json:"groups"`
	Meta        Meta     `json:"meta"`
}

// Group is the Group resource as answered.
type Group struct {
	Schemas     []string `json:"schemas"`
	ID          string   `json:"id"`
	ExternalID  string   `json:"externalId,omitempty"`
	DisplayName string   `json:"displayName"`
	Members     []Ref    `json:"members,omitempty"`
	Meta        Meta     `json:"meta"`
}

// ListResponse is a page of resources.
type ListResponse[T any] struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
	Resources    []T      `json:"Resources"`
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (s *Service) location(kind, id string) string {
	return strings.TrimRight(s.BaseURL, "/") + "/scim/v2/" + kind + "/" + id
}

// ListQuery is a list request's paging and filter.
type ListQuery struct {
	Filter     string
	StartIndex int // 1-based
	Count      int
	// ExcludeMembers leaves group members out (excludedAttributes=members).
	ExcludeMembers bool
}

// Paging limits.
const (
	DefaultCount = 100
	MaxCount     = 200
)

func (q ListQuery) page() (skip, limit int) {
	start := max(q.StartIndex, 1)
	limit = q.Count
	if limit < 0 {
		limit = 0
	}
	limit = min(limit, MaxCount)
	return start - 1, limit
}

// ServiceProviderConfig describes what this service supports.
func (s *Service) ServiceProviderConfig() map[string]any {
	unsupported := map[string]any{"supported": false}
	return map[string]any{
		"schemas":          []string{SPConfigSchema},
		"documentationUri": strings.TrimRight(s.BaseURL, "/") + "/scim/v2",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": MaxCount},
		"changePassword":   unsupported,
		"sort":             unsupported,
		"etag":             unsupported,
		"authenticationSchemes": []map[string]any{{
			"type": "oauthbearertoken", "name": "Bearer token", "primary": true,
			"description": "A token created by an organization admin under Settings -> Provisioning (SCIM).",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": strings.TrimRight(s.BaseURL, "/") + "/scim/v2/ServiceProviderConfig"},
	}
}

// ResourceTypes lists User and Group.
func (s *Service) ResourceTypes() ListResponse[map[string]any] {
	base := strings.TrimRight(s.BaseURL, "/") + "/scim/v2"
	rt := func(id, endpoint, schema string) map[string]any {
		return map[string]any{
			"schemas": []string{ResourceTypeSchema}, "id": id, "name": id, "endpoint": endpoint, "schema": schema,
			"meta": map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/" + id},
		}
	}
	items := []map[string]any{rt("User", "/Users", UserSchema), rt("Group", "/Groups", GroupSchema)}
	return ListResponse[map[string]any]{Schemas: []string{ListSchema}, TotalResults: 2, StartIndex: 1, ItemsPerPage: 2, Resources: items}
}

func attr(name, typ string, required bool, extra map[string]any) map[string]any {
	a := map[string]any{"name": name, "type": typ, "multiValued": false, "required": required, "caseExact": false,
		"mutability": "readWrite", "returned": "default", "uniqueness": "none"}
	for k, v := range extra {
		a[k] = v
	}
	return a
}

// Schemas describes the attributes Accute keeps (a minimal subset of RFC
// 7643's User and Group).
func (s *Service) Schemas() ListResponse[map[string]any] {
	base := strings.TrimRight(s.BaseURL, "/") + "/scim/v2"
	user := map[string]any{
		"schemas": []string{SchemaSchema}, "id": UserSchema, "name": "User", "description": "A member of the organization",
		"attributes": []map[string]any{
			attr("userName", "string", true, map[string]any{"uniqueness": "server"}),
			attr("externalId", "string", false, nil),
			attr("displayName", "string", false, nil),
			attr("name", "complex", false, map[string]any{"subAttributes": []map[string]any{
				attr("formatted", "string", false, nil), attr("givenName", "string", false, nil), attr("familyName", "string", false, nil),
			}}),
			attr("emails", "complex", false, map[string]any{"multiValued": true, "subAttributes": []map[string]any{
				attr("value", "string", false, nil), attr("type", "string", false, nil), attr("primary", "boolean", false, nil),
			}}),
			attr("active", "boolean", false, nil),
			attr("groups", "complex", false, map[string]any{"multiValued": true, "mutability": "readOnly"}),
		},
		"meta": map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + UserSchema},
	}
	group := map[string]any{
		"schemas": []string{SchemaSchema}, "id": GroupSchema, "name": "Group", "description": "A group; groups map to roles",
		"attributes": []map[string]any{
			attr("displayName", "string", true, map[string]any{"uniqueness": "server"}),
			attr("externalId", "string", false, nil),
			attr("members", "complex", false, map[string]any{"multiValued": true, "subAttributes": []map[string]any{
				attr("value", "string", false, map[string]any{"mutability": "immutable"}), attr("display", "string", false, nil),
			}}),
		},
		"meta": map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + GroupSchema},
	}
	return ListResponse[map[string]any]{Schemas: []string{ListSchema}, TotalResults: 2, StartIndex: 1, ItemsPerPage: 2, Resources: []map[string]any{user, group}}
}
