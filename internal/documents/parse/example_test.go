package parse_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"accute/internal/documents/parse"
)

// The documents.parse job opens the stored file as an io.ReaderAt, extracts
// its text and stores the chunks with their places.
func Example() {
	f, err := os.Open("testdata/workbook.xlsx")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	info, _ := f.Stat()

	res, err := parse.Extract(context.Background(), f, info.Size(), parse.KindXLSX, parse.Limits{})
	switch {
	case errors.Is(err, parse.ErrEncrypted), errors.Is(err, parse.ErrMalformed), errors.Is(err, parse.ErrLimit):
		fmt.Println("failed:", parse.Reason(err)) // the document's state, for people
		return
	case err != nil:
		fmt.Println("retry later:", err) // cancelled
		return
	}
	for _, c := range parse.Chunks(res, 1500) {
		fmt.Printf("[%s] sheet=%q cells=%q\n%s\n", c.Ref(), c.Loc.Sheet, c.Loc.Cell, c.Text)
	}
	// Output:
	// [Summary!A1:D5] sheet="Summary" cells="A1:D5"
	// A1: Client | B1: Fee | C1: Share | D1: Due
	// A2: Acme Holdings | B2: 2,500.00 | C2: 62.5% | D2: 2024-03-31
	// A3: Café Zürich | B3: 1,500.00 | C3: 37.5%
	// A5: Total | B5: 4,000.00
	// ['Q1 Data'!B1:C2] sheet="Q1 Data" cells="B1:C2"
	// B1: Invoice | C1: 42
	// B2: Note with | pipe
}
