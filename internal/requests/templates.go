package requests

import (
	"fmt"
	"time"
)

// Template is a built-in starting point for a request: the new-request form
// offers them and fills in its title, instructions and items.
type Template struct {
	Key          string
	Name         string // on the button
	Title        string
	Instructions string
	Items        []string
}

// Templates returns the built-in templates as of now (the periods they
// name, such as the last complete quarter, depend on the date).
func Templates(now time.Time) []Template {
	now = now.UTC()
	// The last complete quarter and month.
	qStart := time.Date(now.Year(), time.Month((int(now.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -3, 0)
	quarter := (int(qStart.Month())-1)/3 + 1
	var months []string
	for i := range 3 {
		months = append(months, "Bank statements – "+qStart.AddDate(0, i, 0).Format("January 2006"))
	}
	lastMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	taxYear := now.Year() - 1
	return []Template{
		{
			Key:   "bank-statements",
			Name:  "Bank statements (last quarter)",
			Title: fmt.Sprintf("Bank statements for Q%d %d", quarter, qStart.Year()),
			Instructions: "Please upload the statements of every business account for each month: bank accounts, credit cards and loans. " +
				"PDF downloads from your online banking are best.",
			Items: months,
		},
		{
			Key:   "year-end",
			Name:  "Year-end tax documents",
			Title: fmt.Sprintf("Documents for your %d tax return", taxYear),
			Instructions: fmt.Sprintf("To prepare your %d return we need the documents below. "+
				"If something does not apply to you, say so in a short note uploaded in its place.", taxYear),
			Items: []string{
				"Income statements from employers and pensions",
				"Interest and dividend statements",
				"Investment and brokerage account statements",
				"Receipts for deductible expenses and donations",
				"Last year's tax assessment or return",
			},
		},
		{
			Key:          "payroll",
			Name:         "Payroll (last month)",
			Title:        "Payroll documents for " + lastMonth.Format("January 2006"),
			Instructions: "Please upload what we need to run payroll for the month.",
			Items: []string{
				"Hours worked or timesheets",
				"New starters and leavers, with their dates",
				"Changes to pay, bonuses and commissions",
				"Expense claims to reimburse",
			},
		},
		{
			Key:          "onboarding",
			Name:         "New client onboarding",
			Title:        "Documents to get started",
			Instructions: "Welcome! To open your file we need to confirm who we work for and see where your books stand.",
			Items: []string{
				"Photo ID of each owner or director (passport or driving licence)",
				"Proof of address dated within the last three months",
				"Company registration or incorporation documents",
				"Latest financial statements and tax return",
			},
		},
	}
}

// TemplateByKey returns the built-in template key as of now.
func TemplateByKey(key string, now time.Time) (Template, bool) {
	for _, t := range Templates(now) {
		if t.Key == key {
			return t, true
		}
	}
	return Template{}, false
}
