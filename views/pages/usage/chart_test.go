package usage

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func TestColumnsScaleToRoundNumbers(t *testing.T) {
	pts := []Point{{Label: "1", Value: 0}, {Label: "2", Value: 730, Title: "2 Jan: 730"}, {Label: "3", Value: 1}, {Label: "4", Value: 365}}
	c := Columns("Tokens", pts, 2, func(v float64) string { return Num(v) })
	if c.Empty || len(c.Bars) != 4 || len(c.Ticks) != 5 {
		t.Fatalf("chart %+v", c)
	}
	// 730 rounds the axis up to 1,000: ticks 0, 250, 500, 750, 1000.
	if c.Ticks[4].Label != "1000" || c.Ticks[1].Label != "250" || c.Ticks[0].Pos != c.Bottom || c.Ticks[4].Pos != c.Top {
		t.Errorf("ticks %+v", c.Ticks)
	}
	plot := c.Bottom - c.Top
	if b := c.Bars[1]; b.H != round1(plot*0.73) || b.Y+b.H != c.Bottom || b.Title != "2 Jan: 730" {
		t.Errorf("bar 2 %+v", b)
	}
	if c.Bars[0].H != 0 || !c.Bars[0].Zero {
		t.Errorf("a zero bar is drawn: %+v", c.Bars[0])
	}
	if c.Bars[2].H < 1 {
		t.Errorf("a tiny non-zero value is invisible: %+v", c.Bars[2])
	}
	if c.Bars[0].Label != "1" || c.Bars[1].Label != "" || c.Bars[2].Label != "3" {
		t.Errorf("labels every 2: %q %q %q", c.Bars[0].Label, c.Bars[1].Label, c.Bars[2].Label)
	}
	for i := 1; i < len(c.Bars); i++ {
		if c.Bars[i].X <= c.Bars[i-1].X+c.Bars[i-1].W-0.1 {
			t.Errorf("bars %d and %d overlap", i-1, i)
		}
		if c.Bars[i].X+c.Bars[i].W > c.Right+0.1 {
			t.Errorf("bar %d leaves the plot", i)
		}
	}
	if e := Columns("Nothing", []Point{{Value: 0}, {Value: 0}}, 1, Num); !e.Empty || e.Ticks[4].Label != "1" {
		t.Errorf("empty chart %+v", e)
	}
	for v, want := range map[float64]float64{0.3: 0.5, 7: 10, 12: 20, 2400: 2500, 50001: 100000, 1: 1} {
		if got := niceCeil(v); got != want {
			t.Errorf("niceCeil(%v) = %v, want %v", v, got, want)
		}
	}
}

func TestRowsAndRender(t *testing.T) {
	c := Rows("By agent", []Point{{Label: "Luca", Value: 100, Title: "Luca: 100"}, {Label: "Echo <script>", Value: 25}})
	if c.Bars[0].W != c.Right-c.Left || c.Bars[1].W != round1((c.Right-c.Left)/4) || c.Height <= c.Bars[1].Y+c.Bars[1].H {
		t.Fatalf("rows %+v", c)
	}
	var buf bytes.Buffer
	if err := RowChart(c, "chart-x").Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		t.Fatal(err)
	}
	svg := doc.Find("svg[data-testid=chart-x]")
	if svg.Length() != 1 || svg.AttrOr("viewBox", "") != c.ViewBox() || svg.AttrOr("role", "") != "img" || svg.AttrOr("aria-label", "") != "By agent" {
		t.Fatalf("svg %s", html)
	}
	if n := svg.Find("rect[data-testid=bar]").Length(); n != 2 {
		t.Errorf("%d bars", n)
	}
	if !strings.Contains(html, "Echo &lt;script&gt;") {
		t.Errorf("label not escaped: %s", html)
	}
	if got := svg.Find("rect[data-testid=bar] title").First().Text(); got != "Luca: 100" {
		t.Errorf("tooltip %q", got)
	}
}
