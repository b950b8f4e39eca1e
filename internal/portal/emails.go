package portal

import (
	"fmt"

	"github.com/google/uuid"

	"accute/internal/notify"
)

// The portal's e-mails, written to the outbox in the transaction of the
// change they announce.

func (s *Service) portalURL(slug, rest string) string {
	return s.base() + "/o/" + slug + "/portal" + rest
}

// submittedEmail tells the firm that a client user submitted identity
// documents for review.
func (s *Service) submittedEmail(a Actor, to string, client uuid.UUID, clientName string, docs int) notify.Email {
	link := s.base() + "/o/" + a.OrgSlug + "/clients/" + client.String() + "#portal-access"
	return notify.Email{
		To:      to,
		Subject: fmt.Sprintf("Identity documents to review: %s (%s)", a.displayName(), clientName),
		Text: fmt.Sprintf("Hello,\n\n%s (%s) submitted %d identity document(s) for %s through the client portal of %s.\n\n"+
			"Review them on the client's page, then verify them or say what is missing:\n\n%s\n",
			a.displayName(), a.Email, docs, clientName, a.OrgName, link),
	}
}

// decisionEmail tells a client user how the firm decided on their
// identity documents.
func (s *Service) decisionEmail(a Actor, to, clientName string, d Decision) notify.Email {
	link := s.portalURL(a.OrgSlug, "/kyc")
	if d.Verified {
		return notify.Email{
			To:      to,
			Subject: fmt.Sprintf("%s verified your identity", a.OrgName),
			Text: fmt.Sprintf("Hello,\n\n%s has checked the identity documents you sent for %s and verified them. "+
				"There is nothing more you need to do.\n\nYour portal: %s\n", a.OrgName, clientName, link),
		}
	}
	return notify.Email{
		To:      to,
		Subject: fmt.Sprintf("%s needs different identity documents", a.OrgName),
		Text: fmt.Sprintf("Hello,\n\n%s has checked the identity documents you sent for %s and could not accept them:\n\n%s\n\n"+
			"Please upload what is needed and submit again:\n\n%s\n", a.OrgName, clientName, d.Reason, link),
	}
}

// linkedEmail tells an existing client user that they can now see another
// client in the portal.
func (s *Service) linkedEmail(a Actor, to, clientName string) notify.Email {
	return notify.Email{
		To:      to,
		Subject: fmt.Sprintf("%s gave you access to %s", a.OrgName, clientName),
		Text: fmt.Sprintf("Hello,\n\n%s (%s) gave you access to %s in the client portal of %s: its documents, document requests "+
			"and identity check.\n\nOpen your portal: %s\n", a.displayName(), a.Email, clientName, a.OrgName, s.portalURL(a.OrgSlug, "")),
	}
}
