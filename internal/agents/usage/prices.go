package usage

import (
	"math"
	"regexp"
	"strings"
)

// Price is a model's list price in US dollars per million tokens.
type Price struct {
	Input  float64
	Output float64
}

// Prices is the price table: OpenAI's standard list prices per 1M tokens
// (input, output), without batch or cached-input discounts. The cost of a
// ledger entry is computed with the table of the day and stored, so a later
// change of price does not rewrite history. Models served by an
// OpenAI-compatible endpoint (Ollama, vLLM, an Azure deployment under its
// own name) are not here: they are recorded with cost 0 and flagged on the
// usage page.
var Prices = map[string]Price{
	"gpt-5":         {1.25, 10.00},
	"gpt-5-mini":    {0.25, 2.00},
	"gpt-5-nano":    {0.05, 0.40},
	"gpt-4.1":       {2.00, 8.00},
	"gpt-4.1-mini":  {0.40, 1.60},
	"gpt-4.1-nano":  {0.10, 0.40},
	"gpt-4o":        {2.50, 10.00},
	"gpt-4o-mini":   {0.15, 0.60},
	"o4-mini":       {1.10, 4.40},
	"o3":            {2.00, 8.00},
	"o3-mini":       {1.10, 4.40},
	"o1":            {15.00, 60.00},
	"o1-mini":       {1.10, 4.40},
	"gpt-4-turbo":   {10.00, 30.00},
	"gpt-4":         {30.00, 60.00},
	"gpt-3.5-turbo": {0.50, 1.50},
}

// OfflineProvider is the built-in provider's name: it runs no model and
// costs nothing.
const OfflineProvider = "offline"

// datedSuffix is a snapshot's date ("gpt-4o-2024-08-06", "o3-mini-2025-01-31").
var datedSuffix = regexp.MustCompile(`-\d{4}-\d{2}-\d{2}$`)

// PriceOf finds model's price: the name as given, lower-cased, without a
// vendor prefix ("openai/gpt-4o") and without a snapshot date.
func PriceOf(model string) (Price, bool) {
	m := strings.ToLower(strings.TrimSpace(model))
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:]
	}
	if p, ok := Prices[m]; ok {
		return p, true
	}
	p, ok := Prices[datedSuffix.ReplaceAllString(m, "")]
	return p, ok
}

// Cost is the cost of a call in billionths of a dollar (nanodollars), and
// whether the price is known. The offline provider is free (and known);
// an unknown model costs 0 and is not priced.
func Cost(provider, model string, input, output int) (nanos int64, priced bool) {
	if provider == OfflineProvider {
		return 0, true
	}
	p, ok := PriceOf(model)
	if !ok {
		return 0, false
	}
	// $1 per million tokens is 1,000 nanodollars per token. Rounded per
	// call, to the nanodollar.
	return int64(math.Round(float64(max(input, 0))*p.Input*1000 + float64(max(output, 0))*p.Output*1000)), true
}
