package audit

// Actions of the client portal (internal/portal): portal access and KYC.
const (
	PortalInvited      = "portal.invited"
	PortalLinked       = "portal.linked"
	PortalUnlinked     = "portal.unlinked"
	KYCDocumentAdded   = "kyc.document_added"
	KYCDocumentRemoved = "kyc.document_removed"
	KYCSubmitted       = "kyc.submitted"
	KYCVerified        = "kyc.verified"
	KYCRejected        = "kyc.rejected"
)
