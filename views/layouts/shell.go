// Package layouts holds the page frames: the signed-in application shell
// with its sidebar, and the centred frame of the sign-in pages.
package layouts

// Shell is the view model every application page's frame is drawn from.
type Shell struct {
	Title string
	User  *User
	Org   *Org   // the current organization, nil outside /o/...
	Orgs  []Org  // the user's organizations, for the switcher
	Nav   Nav    // which sections to show and which is active
	Flash *Flash // one-time message
	// Admin is true inside the platform console.
	Admin bool
}

// User is the signed-in user as the frame shows them.
type User struct {
	Name            string
	Email           string
	Initials        string
	IsPlatformAdmin bool
	Unverified      bool
}

// Org is an organization link.
type Org struct {
	Slug string
	Name string
	Role string
}

// Nav says which sections the member may see; Active names the current one.
type Nav struct {
	Active   string
	Clients  bool
	Members  bool
	Settings bool
	Audit    bool

	// Documents shows the document library (documents.read).
	Documents bool

	// Agents shows the AI agents' marketplace (agents.use).
	Agents bool

	// Approvals shows the queue of agents' proposed actions
	// (agents.approve); Usage the AI usage ledger (agents.manage).
	Approvals bool
	Usage     bool
}

// Flash is a one-time message.
type Flash struct {
	Kind    string // success, error, info
	Message string
}

// OrgPath builds a path inside the current organization.
func (s Shell) OrgPath(rest string) string {
	if s.Org == nil {
		return "/orgs"
	}
	return "/o/" + s.Org.Slug + rest
}
