package layouts

// PortalShell is the frame of the client portal: the firm's name, the
// portal's own short navigation and the signed-in client user. It is
// simpler than Shell on purpose: a client sees their firm, not the product.
type PortalShell struct {
	Title   string
	OrgName string
	OrgSlug string
	User    *User
	// Orgs are the user's other organizations (a client of two firms).
	Orgs []Org
	// Active names the current section: home, documents, requests, kyc.
	Active string
	// Requests shows the document requests section.
	Requests bool
	Flash    *Flash
}

// Path builds a path inside the portal.
func (s PortalShell) Path(rest string) string { return "/o/" + s.OrgSlug + "/portal" + rest }
