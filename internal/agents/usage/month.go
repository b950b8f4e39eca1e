package usage

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"accute/internal/billing"
)

// Month is a calendar month in UTC, the period of budgets and of the plan's
// AI-token limit.
type Month struct {
	Year  int
	Month time.Month
}

// MonthOf is the month that contains t (in UTC).
func MonthOf(t time.Time) Month {
	t = t.UTC()
	return Month{t.Year(), t.Month()}
}

// ErrBadMonth refuses a month that is not written YYYY-MM.
var ErrBadMonth = errors.New("give the month as YYYY-MM, for example 2026-01")

// ParseMonth reads "YYYY-MM".
func ParseMonth(s string) (Month, error) {
	s = strings.TrimSpace(s)
	t, err := time.Parse("2006-01", s)
	if err != nil || len(s) != 7 || t.Year() < 2000 || t.Year() > 9999 {
		return Month{}, ErrBadMonth
	}
	return Month{t.Year(), t.Month()}, nil
}

// Start is the first instant of the month.
func (m Month) Start() time.Time { return time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, time.UTC) }

// End is the first instant of the next month.
func (m Month) End() time.Time { return m.Start().AddDate(0, 1, 0) }

// Days is the number of days in the month.
func (m Month) Days() int { return m.End().AddDate(0, 0, -1).Day() }

// String is "YYYY-MM".
func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// Label is "January 2026".
func (m Month) Label() string { return fmt.Sprintf("%s %d", m.Month, m.Year) }

// Prev is the month before.
func (m Month) Prev() Month { return MonthOf(m.Start().AddDate(0, -1, 0)) }

// Next is the month after.
func (m Month) Next() Month { return MonthOf(m.End()) }

// After reports whether m is later than o.
func (m Month) After(o Month) bool {
	return m.Year > o.Year || (m.Year == o.Year && m.Month > o.Month)
}

// bounds is the month as billing counts it: the same period, one
// definition (billing.MonthBounds).
func (m Month) bounds() (time.Time, time.Time) { return billing.MonthBounds(m.Start()) }
