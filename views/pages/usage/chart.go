package usage

import (
	"math"
	"strconv"
)

// Charts are drawn on the server as SVG: the geometry is computed here in
// plain Go (so it can be tested without a browser), the templates only
// place it. No script, no external library, readable by screen readers
// through each bar's <title> and the chart's table fallback.

// Point is one value of a chart: its label (a day, an agent) and value,
// with the words of its tooltip.
type Point struct {
	Label string
	Value float64
	Title string
}

// Bar is one bar's rectangle.
type Bar struct {
	X, Y, W, H float64
	Title      string
	Label      string // the category's label, placed under or beside it
	LabelX     float64
	LabelY     float64
	Zero       bool
}

// Tick is a gridline with its label.
type Tick struct {
	Pos   float64
	Label string
}

// Chart is a laid-out bar chart.
type Chart struct {
	Width, Height float64
	// Plot area.
	Left, Top, Right, Bottom float64
	Bars                     []Bar
	Ticks                    []Tick
	Title                    string // the chart's accessible name
	Empty                    bool   // every value is zero
}

// niceCeil rounds v up to 1, 2, 2.5 or 5 times a power of ten, so the axis
// reads in round numbers.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	exp := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if v <= m*exp*(1+1e-9) {
			return m * exp
		}
	}
	return 10 * exp
}

// Columns lays out vertical bars, one per point, labelling every
// labelEvery-th category (1: all), with four gridlines labelled by format.
func Columns(title string, pts []Point, labelEvery int, format func(float64) string) Chart {
	c := Chart{Width: 720, Height: 240, Left: 64, Top: 12, Right: 708, Bottom: 208, Title: title, Empty: true}
	top := 0.0
	for _, p := range pts {
		top = math.Max(top, p.Value)
		if p.Value > 0 {
			c.Empty = false
		}
	}
	top = niceCeil(top)
	plotH := c.Bottom - c.Top
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		c.Ticks = append(c.Ticks, Tick{Pos: round1(c.Bottom - plotH*float64(i)/4), Label: format(v)})
	}
	if len(pts) == 0 {
		return c
	}
	slot := (c.Right - c.Left) / float64(len(pts))
	w := math.Max(slot*0.7, 1)
	if labelEvery < 1 {
		labelEvery = 1
	}
	for i, p := range pts {
		h := 0.0
		if p.Value > 0 {
			h = math.Max(plotH*p.Value/top, 1) // a non-zero value stays visible
		}
		x := c.Left + slot*float64(i) + (slot-w)/2
		b := Bar{X: round1(x), Y: round1(c.Bottom - h), W: round1(w), H: round1(h), Title: p.Title, Zero: p.Value <= 0,
			LabelX: round1(x + w/2), LabelY: c.Bottom + 16}
		if i%labelEvery == 0 {
			b.Label = p.Label
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}

// Rows lays out horizontal bars, one per point (a breakdown), with the
// category's label above its bar.
func Rows(title string, pts []Point) Chart {
	const rowH, barH, labelW = 40.0, 14.0, 0.0
	c := Chart{Width: 360, Left: labelW, Right: 352, Top: 4, Title: title, Empty: true}
	c.Height = c.Top + rowH*float64(len(pts)) + 4
	c.Bottom = c.Height - 4
	top := 0.0
	for _, p := range pts {
		top = math.Max(top, p.Value)
		if p.Value > 0 {
			c.Empty = false
		}
	}
	for i, p := range pts {
		y := c.Top + rowH*float64(i)
		w := 0.0
		if top > 0 && p.Value > 0 {
			w = math.Max((c.Right-c.Left)*p.Value/top, 2)
		}
		c.Bars = append(c.Bars, Bar{X: c.Left, Y: round1(y + 20), W: round1(w), H: barH, Title: p.Title, Label: p.Label,
			LabelX: c.Left, LabelY: round1(y + 14), Zero: p.Value <= 0})
	}
	return c
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// Num writes a coordinate for an SVG attribute.
func Num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// ViewBox is the chart's viewBox attribute.
func (c Chart) ViewBox() string { return "0 0 " + Num(c.Width) + " " + Num(c.Height) }
