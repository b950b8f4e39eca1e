package usage

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"time"

	"github.com/google/uuid"

	"accute/internal/db"
)

// CSVHeader is the export's first row.
var CSVHeader = []string{"time_utc", "run_id", "agent", "user_email", "client_id", "client", "provider", "model",
	"input_tokens", "output_tokens", "total_tokens", "cost_usd", "priced"}

// exportPage is how many ledger rows are read at a time.
const exportPage = 2000

// ExportCSV writes month m's ledger of orgID as CSV to w, oldest first,
// reading it in pages (keyset) so a large month is never held in memory.
// It runs in its own transaction: call it after the request's has been
// committed, since it writes to w while it reads.
func (s *Service) ExportCSV(ctx context.Context, orgID uuid.UUID, m Month, w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	start, end := m.bounds()
	after, afterID := time.Time{}, uuid.Nil
	for {
		var rows []db.ListAIUsageEntriesRow
		err := s.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
			var err error
			rows, err = q.ListAIUsageEntries(ctx, db.ListAIUsageEntriesParams{OrganizationID: orgID, StartsAt: start, EndsAt: end,
				AfterTime: after, AfterID: afterID, MaxRows: exportPage})
			return err
		})
		if err != nil {
			return err
		}
		for _, r := range rows {
			client := ""
			if r.ClientID != nil {
				client = r.ClientID.String()
			}
			rec := []string{
				r.CreatedAt.UTC().Format(time.RFC3339), r.RunID.String(), r.AgentSlug, r.UserEmail, client, r.ClientName,
				r.Provider, r.Model, strconv.Itoa(int(r.InputTokens)), strconv.Itoa(int(r.OutputTokens)),
				strconv.FormatInt(int64(r.InputTokens)+int64(r.OutputTokens), 10), DecimalUSD(r.CostNanos), strconv.FormatBool(r.Priced),
			}
			for i := range rec {
				rec[i] = SafeCell(rec[i])
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if len(rows) < exportPage {
			return nil
		}
		last := rows[len(rows)-1]
		after, afterID = last.CreatedAt, last.ID
	}
}

// SafeCell defuses CSV injection (formula injection): a spreadsheet runs a
// cell that starts with = + - @, or with a tab or carriage return before
// one of those, as a formula. Such a cell gets a leading apostrophe, which
// spreadsheets show as text, as OWASP recommends. Names and e-mail
// addresses come from users; model names from configuration.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', '|', '%':
		return "'" + s
	}
	return s
}
