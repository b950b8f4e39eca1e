package audit

// Actions of document requests (internal/requests).
const (
	RequestCreated       = "request.created"
	RequestSubmitted     = "request.submitted"
	RequestDocumentAdded = "request.document_added"
	RequestAccepted      = "request.accepted"
	RequestRejected      = "request.rejected"
	RequestCancelled     = "request.cancelled"
	RequestReminderSent  = "request.reminder_sent"
)
