package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The generated documents look like a firm's: each kind (bank statements,
// invoices, payroll, trial balances, leases, receipts, letters, CSV bank
// exports, notes) has its own layout and topic words, written over a
// general vocabulary of some 5,800 words drawn with a Zipf law (a few
// words on most pages, most words rare), with people's and companies'
// names, amounts, dates and identifiers (invoice numbers, account and
// employee numbers) that make most lexemes rare, as in real text. A few
// words ("total", "amount", "balance", "date") are on most pages, as they
// are in accounting documents. Everything comes from one seeded generator,
// so the corpus is the same on every run.

// corpusBase is the newest upload date: documents were uploaded over the
// two years before it.
var corpusBase = time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC)

// chunk is one stored piece of text with its place, as the parsers emit it.
type chunk struct {
	page               int
	sheet, cell, ref   string
	lineStart, lineEnd int
	text               string
}

// kind is a kind of document.
type kind struct {
	stem    string // file name
	ext     string
	mime    string
	weight  int // share of the documents
	min     int // chunks, before scaling by -pages
	max     int
	chunker func(g *gen, doc *docCtx, seq, n int) chunk
}

// docCtx is what stays the same across a document's chunks.
type docCtx struct {
	client  string
	year    int
	month   int
	vendor  string
	number  int
	account string
}

var kinds = []kind{
	{"Bank statement", "pdf", "application/pdf", 18, 2, 6, bankStatementPage},
	{"Invoice", "pdf", "application/pdf", 20, 1, 2, invoicePage},
	{"Payroll register", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 8, 2, 5, payrollSheet},
	{"Trial balance", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 6, 2, 6, trialBalanceSheet},
	{"Lease agreement", "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", 4, 6, 14, leaseSection},
	{"Receipt", "jpeg", "image/jpeg", 16, 1, 1, receiptPage},
	{"Letter", "pdf", "application/pdf", 14, 1, 4, letterPage},
	{"Bank export", "csv", "text/csv", 8, 2, 8, bankExportRows},
	{"Notes", "txt", "text/plain", 6, 1, 3, notesLines},
}

// gen draws the text.
type gen struct {
	rng     *rand.Rand
	general *rand.Zipf // over generalWords
	words   []string
	vendor  *rand.Zipf // over vendors
	vendors []string
	people  []string
}

func newGen(seed uint64) *gen {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	g := &gen{rng: rng}
	g.words = append(strings.Fields(commonEnglish), strings.Fields(businessWords)...)
	g.words = append(g.words, pseudoWords(rng, 5000, g.words)...)
	g.general = rand.NewZipf(rng, 1.07, 3, uint64(len(g.words)-1))
	stems := pseudoWords(rng, 900, g.words)
	suffixes := []string{"LLC", "Inc.", "Ltd", "& Co.", "Supply", "Services", "Group", "Partners", "Holdings", "Systems"}
	for i, s := range stems {
		g.vendors = append(g.vendors, title(s)+" "+suffixes[i%len(suffixes)])
	}
	g.vendor = rand.NewZipf(rng, 1.2, 2, uint64(len(g.vendors)-1))
	first, last := strings.Fields(firstNames), strings.Fields(lastNames)
	for range 1500 {
		g.people = append(g.people, first[rng.IntN(len(first))]+" "+last[rng.IntN(len(last))])
	}
	return g
}

// pseudoWords are n distinct made-up words (syllables), none in taken.
func pseudoWords(rng *rand.Rand, n int, taken []string) []string {
	onsets := strings.Fields("b br c ch cl d dr f fl g gr h j k l m n p pl pr qu r s sh st t tr v w z")
	vowels := strings.Fields("a e i o u ai ea ie ou y")
	codas := []string{"", "", "", "n", "r", "l", "s", "t", "m", "nd", "rt", "st", "x"}
	seen := map[string]bool{}
	for _, w := range taken {
		seen[w] = true
	}
	var out []string
	for len(out) < n {
		var b strings.Builder
		for range 2 + rng.IntN(3) {
			b.WriteString(onsets[rng.IntN(len(onsets))])
			b.WriteString(vowels[rng.IntN(len(vowels))])
		}
		b.WriteString(codas[rng.IntN(len(codas))])
		w := b.String()
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

func title(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// prose writes n words of general text, with topic words mixed in at rate
// topicRate (0..1) and a sentence end now and then.
func (g *gen) prose(b *strings.Builder, n int, topic []string, topicRate float64) {
	for i := range n {
		if i > 0 {
			if g.rng.IntN(14) == 0 {
				b.WriteString(". ")
			} else {
				b.WriteByte(' ')
			}
		}
		if len(topic) > 0 && g.rng.Float64() < topicRate {
			b.WriteString(topic[g.rng.IntN(len(topic))])
		} else {
			b.WriteString(g.words[g.general.Uint64()])
		}
	}
	b.WriteString(".\n")
}

func (g *gen) pick(list []string) string { return list[g.rng.IntN(len(list))] }

func (g *gen) amount(max int) string {
	cents := g.rng.IntN(max * 100)
	return commas(cents/100) + fmt.Sprintf(".%02d", cents%100)
}

func commas(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func (g *gen) date(doc *docCtx) string {
	return fmt.Sprintf("%02d/%02d/%d", doc.month, 1+g.rng.IntN(28), doc.year)
}

func (g *gen) vendorName() string { return g.vendors[g.vendor.Uint64()] }

var (
	bankWords = strings.Fields(`direct debit standing order card payment transfer deposit withdrawal
		interest charge fee overdraft cheque cleared pending reversal chargeback ATM wire ACH
		merchant point-of-sale refund reconciliation statement opening closing available`)
	invoiceWords = strings.Fields(`consulting services hours rate quantity unit price subtotal discount
		shipping handling VAT sales tax remit payable net terms overdue late fee purchase order
		delivery goods materials labour retainer milestone licence subscription maintenance`)
	payrollWords = strings.Fields(`gross pay net pay federal withholding state withholding social security
		medicare pension contribution 401k health insurance overtime bonus commission salary wages
		hourly PTO garnishment payroll tax employer employee deductions YTD`)
	tbWords = strings.Fields(`debit credit cash bank accounts receivable accounts payable inventory prepaid
		expenses accumulated depreciation fixed asset goodwill impairment accrued liabilities deferred
		revenue retained earnings share capital dividend cost of sales wages rent utilities
		depreciation expense interest expense income tax suspense intercompany loan covenant`)
	leaseWords = strings.Fields(`landlord tenant premises term commencement rent deposit renewal option
		break clause service charge repairs insurance assignment sublet lease liability right-of-use asset
		discount rate incremental borrowing payments schedule indemnity quiet enjoyment forfeiture`)
	receiptWords = strings.Fields(`receipt cashier card visa mastercard change tip mileage allowance
		subsistence travel parking fuel taxi hotel meal petty cash charitable donation receipt thank you`)
	letterWords = strings.Fields(`engagement letter scope responsibilities fees audit opinion review
		adjustment management letter quarterly estimate capital gains dividend withholding 1099 W-2
		deadline extension penalty filing notice assessment return VAT return HMRC IRS refund
		crypto depreciation schedule inventory count fixed asset register partnership trust estate`)
	noteWords = strings.Fields(`call follow-up meeting client agreed reminder chase missing documents
		bank statement payroll query reconciliation march april review partner manager`)
)

func bankStatementPage(g *gen, doc *docCtx, seq, n int) chunk {
	var b strings.Builder
	fmt.Fprintf(&b, "First Federal Bank statement of account. Account holder %s. Account number %s. Statement period %02d/01/%d to %02d/28/%d. Page %d of %d.\n",
		doc.client, doc.account, doc.month, doc.year, doc.month, doc.year, seq+1, n)
	bal := g.rng.IntN(90000) + 1000
	fmt.Fprintf(&b, "Date Description Reference Amount Balance. Opening balance %s.\n", commas(bal))
	for range 18 + g.rng.IntN(10) {
		ref := fmt.Sprintf("REF%07d", g.rng.IntN(10_000_000))
		if g.rng.IntN(12) == 0 {
			ref = fmt.Sprintf("INV-%d-%04d", doc.year, g.rng.IntN(10000))
		}
		fmt.Fprintf(&b, "%s %s %s %s %s %s\n", g.date(doc), g.pick(bankWords), g.vendorName(), ref, g.amount(4000), commas(g.rng.IntN(90000)))
	}
	fmt.Fprintf(&b, "Total debits %s. Total credits %s. Closing balance %s. Amount overdrawn 0.00.\n", g.amount(60000), g.amount(60000), commas(g.rng.IntN(90000)))
	if g.rng.IntN(3) == 0 {
		g.prose(&b, 30, bankWords, 0.2)
	}
	return chunk{page: seq + 1, ref: fmt.Sprintf("page %d", seq+1), text: b.String()}
}

func invoicePage(g *gen, doc *docCtx, seq, n int) chunk {
	var b strings.Builder
	fmt.Fprintf(&b, "%s invoice INV-%d-%04d. Invoice date %s. Bill to %s. Purchase order PO-%05d. Page %d of %d.\n",
		doc.vendor, doc.year, doc.number, g.date(doc), doc.client, g.rng.IntN(100000), seq+1, n)
	b.WriteString("Description Quantity Unit price Amount.\n")
	for range 4 + g.rng.IntN(12) {
		fmt.Fprintf(&b, "%s %s %s %d %s %s\n", g.pick(invoiceWords), g.pick(invoiceWords), g.words[g.general.Uint64()], 1+g.rng.IntN(40), g.amount(900), g.amount(9000))
	}
	if seq == n-1 {
		fmt.Fprintf(&b, "Subtotal %s. VAT %s. Total amount due %s. Payment terms net 30; amounts overdue incur a late fee.\n", g.amount(20000), g.amount(4000), g.amount(24000))
	}
	g.prose(&b, 20+g.rng.IntN(60), invoiceWords, 0.15)
	return chunk{page: seq + 1, ref: fmt.Sprintf("page %d", seq+1), text: b.String()}
}

func payrollSheet(g *gen, doc *docCtx, seq, n int) chunk {
	var b strings.Builder
	sheet := []string{"Payroll", "Deductions", "Employer taxes", "YTD", "Summary"}[seq%5]
	rows := 12 + g.rng.IntN(25)
	fmt.Fprintf(&b, "%s payroll register %02d/%d %s. Employee Employee ID Gross pay Federal withholding Social security Medicare State tax Net pay\n", doc.client, doc.month, doc.year, sheet)
	for range rows {
		fmt.Fprintf(&b, "%s | EMP-%04d | %s | %s | %s | %s | %s | %s\n", g.people[g.rng.IntN(len(g.people))], g.rng.IntN(5000),
			g.amount(9000), g.amount(1500), g.amount(600), g.amount(150), g.amount(400), g.amount(7000))
	}
	fmt.Fprintf(&b, "Total | | %s | %s | %s | %s | %s | %s\n", g.amount(200000), g.amount(30000), g.amount(12000), g.amount(3000), g.amount(8000), g.amount(150000))
	if g.rng.IntN(2) == 0 {
		g.prose(&b, 15, payrollWords, 0.4)
	}
	cell := fmt.Sprintf("A1:H%d", rows+2)
	return chunk{sheet: sheet, cell: cell, ref: sheet + "!" + cell, text: b.String()}
}

func trialBalanceSheet(g *gen, doc *docCtx, seq, n int) chunk {
	var b strings.Builder
	sheet := fmt.Sprintf("TB %d-%02d", doc.year, 1+(doc.month+seq)%12)
	rows := 20 + g.rng.IntN(30)
	fmt.Fprintf(&b, "%s trial balance %s. Account code Account name Debit Credit\n", doc.client, sheet)
	for range rows {
		code := 1000 + g.rng.IntN(90)*100
		name := g.pick(tbWords) + " " + g.pick(tbWords)
		if g.rng.IntN(2) == 0 {
			fmt.Fprintf(&b, "%d | %s | %s | \n", code, name, g.amount(250000))
		} else {
			fmt.Fprintf(&b, "%d | %s | | %s\n", code, name, g.amount(250000))
		}
	}
	t := g.amount(2000000)
	fmt.Fprintf(&b, "Total | | %s | %s\n", t, t)
	cell := fmt.Sprintf("A1:D%d", rows+2)
	return chunk{sheet: sheet, cell: cell, ref: "'" + sheet + "'!" + cell, text: b.String()}
}

func leaseSection(g *gen, doc *docCtx, seq, n int) chunk {
	var b strings.Builder
	first := seq*6 + 1
	if seq == 0 {
		fmt.Fprintf(&b, "Lease agreement between %s (the landlord) and %s (the tenant) for the premises at %d %s Street, dated %s.\n",
			doc.vendor, doc.client, 1+g.rng.IntN(999), title(g.words[g.general.Uint64()%2000]), g.date(doc))
	}
	fmt.Fprintf(&b, "%d. %s.\n", seq+1, title(g.pick(leaseWords)+" "+g.pick(leaseWords)))
	g.prose(&b, 180+g.rng.IntN(160), leaseWords, 0.12)
	if g.rng.IntN(2) == 0 {
		fmt.Fprintf(&b, "The annual rent amount is %s payable quarterly in advance; the total of the lease payments is %s.\n", g.amount(200000), g.amount(2000000))
	}
	return chunk{ref: fmt.Sprintf("paragraphs %d-%d", first, first+5), text: b.String()}
}

func receiptPage(g *gen, doc *docCtx, seq, n int) chunk {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s %02d:%02d\n", strings.ToUpper(doc.vendor), g.date(doc), g.rng.IntN(24), g.rng.IntN(60))
	for range 2 + g.rng.IntN(8) {
		fmt.Fprintf(&b, "%s %s %s\n", g.pick(receiptWords), g.words[g.general.Uint64()], g.amount(200))
	}
	fmt.Fprintf(&b, "Subtotal %s\nTax %s\nTotal %s\nAmount paid %s card ****%04d\n", g.amount(500), g.amount(50), g.amount(550), g.amount(550), g.rng.IntN(10000))
	if g.rng.IntN(5) == 0 {
		g.prose(&b, 20, receiptWords, 0.3)
	}
	return chunk{page: 1, ref: "page 1", text: b.String()}
}

func letterPage(g *gen, doc *docCtx, seq, n int) chunk {
	var b strings.Builder
	if seq == 0 {
		fmt.Fprintf(&b, "%s\nDear %s,\nRe: %s %s for the year %d.\n", g.date(doc), g.people[g.rng.IntN(len(g.people))], g.pick(letterWords), g.pick(letterWords), doc.year)
	}
	g.prose(&b, 200+g.rng.IntN(200), letterWords, 0.06)
	if g.rng.IntN(3) == 0 {
		fmt.Fprintf(&b, "The total amount payable is %s, due by %s.\n", g.amount(30000), g.date(doc))
	}
	if seq == n-1 {
		fmt.Fprintf(&b, "Yours sincerely,\n%s\n", g.people[g.rng.IntN(len(g.people))])
	}
	return chunk{page: seq + 1, ref: fmt.Sprintf("page %d", seq+1), text: b.String()}
}

func bankExportRows(g *gen, doc *docCtx, seq, n int) chunk {
	var b strings.Builder
	first := seq*50 + 1
	if seq == 0 {
		b.WriteString("Date | Description | Counterparty | Reference | Amount | Balance\n")
	}
	for range 50 {
		fmt.Fprintf(&b, "%d-%02d-%02d | %s | %s | TX%08d | %s | %s\n", doc.year, doc.month, 1+g.rng.IntN(28), g.pick(bankWords), g.vendorName(), g.rng.IntN(100_000_000), g.amount(3000), commas(g.rng.IntN(90000)))
	}
	cell := fmt.Sprintf("A%d:F%d", first, first+49)
	return chunk{cell: cell, ref: cell, text: b.String()}
}

func notesLines(g *gen, doc *docCtx, seq, n int) chunk {
	var b strings.Builder
	first := seq*40 + 1
	fmt.Fprintf(&b, "%s: call with %s about %s.\n", g.date(doc), doc.client, g.pick(noteWords))
	g.prose(&b, 120+g.rng.IntN(120), noteWords, 0.08)
	return chunk{lineStart: first, lineEnd: first + 39, ref: fmt.Sprintf("lines %d-%d", first, first+39), text: b.String()}
}

// corpusDoc is one generated document with its current version's chunks
// (and, for some, an older version's).
type corpusDoc struct {
	id, versionID uuid.UUID
	oldVersionID  uuid.UUID // uuid.Nil when the document has one version
	client        int       // index into the clients
	kind          *kind
	name          string
	created       time.Time
	archived      bool
	chunks        []chunk
	oldChunks     []chunk
}

// corpus generates nDocs documents over the clients (their names), about pages
// chunks per document on average, oldest first (the order they would have
// been uploaded and parsed in, so also the order of the table's rows).
func corpus(nDocs int, clients []string, pages int) []corpusDoc {
	nClients := len(clients)
	g := newGen(2026)
	total := 0
	for _, k := range kinds {
		total += k.weight
	}
	// Average chunks per document before scaling, to scale to pages.
	avg := 0.0
	for _, k := range kinds {
		avg += float64(k.weight) / float64(total) * float64(k.min+k.max) / 2
	}
	scale := float64(pages) / avg
	// Clients are not the same size: a Zipf-like share each.
	clientZipf := rand.NewZipf(g.rng, 1.3, 4, uint64(nClients-1))
	id := func() uuid.UUID {
		var u uuid.UUID
		for i := range 16 {
			u[i] = byte(g.rng.UintN(256))
		}
		u[6] = u[6]&0x0f | 0x40
		u[8] = u[8]&0x3f | 0x80
		return u
	}
	docs := make([]corpusDoc, nDocs)
	span := 2 * 365 * 24 * time.Hour
	for i := range docs {
		w := g.rng.IntN(total)
		var k *kind
		for j := range kinds {
			if w < kinds[j].weight {
				k = &kinds[j]
				break
			}
			w -= kinds[j].weight
		}
		// More documents recently: the firm grew.
		age := time.Duration(float64(span) * (1 - math.Sqrt(g.rng.Float64())))
		created := corpusBase.Add(-age).Truncate(time.Minute)
		c := int(clientZipf.Uint64())
		d := corpusDoc{id: id(), versionID: id(), client: c, kind: k, created: created, archived: g.rng.IntN(40) == 0}
		ctx := &docCtx{year: created.Year(), month: int(created.Month()), vendor: g.vendorName(), number: g.rng.IntN(10000),
			account: fmt.Sprintf("%08d", g.rng.IntN(100_000_000))}
		ctx.client = clients[c]
		d.name = fmt.Sprintf("%s %s %d-%02d.%s", k.stem, ctx.vendor, ctx.year, ctx.month, k.ext)
		n := max(1, int(float64(k.min+g.rng.IntN(k.max-k.min+1))*scale+0.5))
		if k.min == k.max {
			n = k.min
		}
		for seq := range n {
			d.chunks = append(d.chunks, k.chunker(g, ctx, seq, n))
		}
		// One in twelve was replaced by a corrected upload: the old
		// version's chunks stay, and must not be found.
		if g.rng.IntN(12) == 0 {
			d.oldVersionID = id()
			for seq := range n {
				d.oldChunks = append(d.oldChunks, k.chunker(g, ctx, seq, n))
			}
		}
		docs[i] = d
	}
	slices.SortStableFunc(docs, func(a, b corpusDoc) int { return a.created.Compare(b.created) })
	return docs
}

// commonEnglish are frequent English words, most of them stop words the
// text search configuration drops; they head the Zipf draw.
const commonEnglish = `the of and to a in is that for it as was with be by on not he this are or his
from at which but have an they you were her she there been one all we their has would when if so no
will more can its into only other new some could time these two may then do first any my now such like
our over man me even most made after also did many before must through back years where much your way
well down should because each just those people how too little state good very make world still own see
men work long get here between both life being under never day same another know while last might us
great old year off come since against go came right used take three`

// businessWords are the words of business writing every kind shares; they
// follow the common words in the Zipf draw, so they are frequent too.
const businessWords = `total amount balance date account payment period company client report
financial year month records information please provide attached required prepared following
business services note due number per cost value tax income expenses statement review based
reference summary approved current previous including agreed above below process received confirm
schedule detail details adjustments item items basis rate office records support supporting
management documents document accounting policy policies regarding available relevant issue issues
position matter matters further additional option options effective annual quarterly monthly
general specific standard operations operating company's entity entities group final draft copy`

const firstNames = `James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William
Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew
Betty Anthony Margaret Mark Sandra Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua
Michelle Kenneth Carol Kevin Amanda Brian Dorothy George Melissa Timothy Deborah Ronald Stephanie
Edward Rebecca Jason Sharon Jeffrey Laura Ryan Cynthia Jacob Kathleen Gary Amy Nicholas Angela Eric
Shirley Jonathan Anna Stephen Brenda Larry Pamela Justin Emma Scott Nicole Brandon Helen Benjamin
Samantha Samuel Katherine Gregory Christine Alexander Debra Frank Rachel Patrick Carolyn Raymond Janet
Priya Arjun Wei Mei Hiroshi Yuki Olumide Chioma Mateo Sofia Lucas Amara Kwame Fatima Omar Leila`

const lastNames = `Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez
Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores
Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz
Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan
Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James
Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez
Whitfield Natarajan Okafor Haddad Lund Olsen Becker Khan Park Stone Delgado Alvarez Chen Kowalski
Novak Schmidt Muller Rossi Russo Dubois Moreau Silva Santos Costa Oliveira Kumar Singh Sharma Gupta
Tanaka Suzuki Watanabe Yamamoto Nakamura Ito Sato Zhang Wang Liu Yang Huang Zhao Wu Zhou Xu`
