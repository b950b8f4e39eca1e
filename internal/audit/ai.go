package audit

// An organization's AI provider settings (internal/agents/providers.go).
// The API key itself never appears in the trail, only that it changed.
const (
	AISettingsUpdated = "ai.settings_updated"
	AISettingsReset   = "ai.settings_reset" // back to the platform default
	AIKeySet          = "ai.key_set"
	AIKeyRemoved      = "ai.key_removed"
)
