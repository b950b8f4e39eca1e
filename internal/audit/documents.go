package audit

// Actions of documents (internal/documents) and the job queue's console.
const (
	DocumentUploaded      = "document.uploaded"
	DocumentVersionAdded  = "document.version_added"
	DocumentUpdated       = "document.updated"
	DocumentArchived      = "document.archived"
	DocumentRestored      = "document.restored"
	DocumentDownloaded    = "document.downloaded"
	DocumentRefused       = "document.upload_refused"
	DocumentFolderCreated = "document.folder_created"
	DocumentFolderRenamed = "document.folder_renamed"
	DocumentFolderDeleted = "document.folder_deleted"
	AdminJobRetried       = "admin.job_retried"
	AdminJobCancelled     = "admin.job_cancelled"
)
