// Package components holds small presentational pieces shared by pages.
// They receive plain values and never touch data.
package components

import "strconv"

// Input describes one form field.
type Input struct {
	Name         string
	Label        string
	Type         string // text (default), email, password, tel, ...
	Value        string
	Error        string
	Hint         string
	Required     bool
	Autocomplete string
	Placeholder  string
	MaxLength    int
	Autofocus    bool
}

func (in Input) inputType() string {
	if in.Type == "" {
		return "text"
	}
	return in.Type
}

func (in Input) id() string { return "f-" + in.Name }

func (in Input) maxLen() string {
	if in.MaxLength <= 0 {
		return ""
	}
	return strconv.Itoa(in.MaxLength)
}

// Option is a select option.
type Option struct {
	Value    string
	Label    string
	Selected bool
}

// Pager is a page of results.
type Pager struct {
	Page    int
	PerPage int
	Total   int
	// Capped: Total is a lower bound, more match ("1–20 of 1,000+").
	Capped bool
	// URL builds the address of page n (keeping filters).
	URL func(n int) string
}

// Pages is the number of pages.
func (p Pager) Pages() int {
	if p.PerPage <= 0 || p.Total <= 0 {
		return 1
	}
	return (p.Total + p.PerPage - 1) / p.PerPage
}

// From is the 1-based index of the first row shown.
func (p Pager) From() int {
	if p.Total == 0 {
		return 0
	}
	return (p.Page-1)*p.PerPage + 1
}

// To is the index of the last row shown.
func (p Pager) To() int { return min(p.Page*p.PerPage, p.Total) }

// TotalText is the total as shown: "1,000+" when capped.
func (p Pager) TotalText() string {
	if !p.Capped {
		return strconv.Itoa(p.Total)
	}
	return Thousands(p.Total) + "+"
}

// Thousands writes n with thousands separators: 12,345.
func Thousands(n int) string {
	s := strconv.Itoa(n)
	start := 0
	if n < 0 {
		start = 1
	}
	for i := len(s) - 3; i > start; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
