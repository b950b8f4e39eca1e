package usage

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"accute/internal/billing"
)

// NanosPerDollar: costs are stored in billionths of a dollar.
const NanosPerDollar int64 = 1_000_000_000

// FormatUSD writes a cost for people: "$12.34", "$1,234.50", and amounts
// under a dollar with up to four decimals so they can be seen ("$0.0042",
// "$0.25"), "$0.00" for nothing.
func FormatUSD(nanos int64) string {
	if nanos <= 0 {
		return "$0.00"
	}
	if nanos < NanosPerDollar { // under a dollar: up to four decimals, at least $0.0001
		s := fmt.Sprintf("%04d", max((nanos+50_000)/100_000, 1))
		if len(s) > 4 { // rounded up to a dollar
			return "$1.00"
		}
		for len(s) > 2 && s[len(s)-1] == '0' {
			s = s[:len(s)-1]
		}
		return "$0." + s
	}
	cents := (nanos + 5_000_000) / 10_000_000
	return "$" + billing.FormatAmount(billing.AITokens, cents/100) + fmt.Sprintf(".%02d", cents%100)
}

// DecimalUSD writes a cost as a plain decimal with six places ("0.001234"),
// for CSV and the API.
func DecimalUSD(nanos int64) string {
	micros := (nanos + 500) / 1000
	return fmt.Sprintf("%d.%06d", micros/1_000_000, micros%1_000_000)
}

// FormatTokens writes a token count with thousands separators.
func FormatTokens(n int64) string { return billing.FormatAmount(billing.AITokens, n) }

// maxBudgetDollars bounds a cost cap (and keeps nanodollars far from
// overflowing int64).
const maxBudgetDollars = 1_000_000_000

var errMoney = errors.New("enter an amount in US dollars, for example 250 or 99.50")

// ParseUSD reads a dollar amount typed by a person ("250", "$1,000.50",
// "0.25"), exactly (no floating point), to nanodollars.
func ParseUSD(s string) (int64, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "$"))
	s = strings.NewReplacer(",", "", "_", "", " ", "").Replace(s)
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" && (!hasFrac || frac == "") {
		return 0, errMoney
	}
	if whole == "" {
		whole = "0"
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, errMoney
		}
	}
	if len(frac) > 9 {
		return 0, errors.New("use at most nine decimal places")
	}
	if len(whole) > 10 {
		return 0, fmt.Errorf("the most you can enter is $%s", billing.FormatAmount(billing.AITokens, maxBudgetDollars))
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, errMoney
	}
	if w > maxBudgetDollars {
		return 0, fmt.Errorf("the most you can enter is $%s", billing.FormatAmount(billing.AITokens, maxBudgetDollars))
	}
	var f int64
	if frac != "" {
		f, _ = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
	}
	return w*NanosPerDollar + f, nil
}
