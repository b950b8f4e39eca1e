package runs

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"

	"accute/internal/agents/provider"
	"accute/internal/agents/tools"
)

// citations collects the passages a run's tools returned. Every tool
// numbers its passages from 1, so a second search would reuse [1]: the
// collector renumbers each result's passages after the ones already seen,
// in the tool's JSON content too, before the model reads it, so a marker
// [n] in the answer names one passage of the whole run.
type citations struct {
	list []provider.Passage
}

// add records res's passages and returns the content to give the model.
func (c *citations) add(res tools.Result) string {
	if len(res.Citations) == 0 {
		return res.Content
	}
	mapping := map[int]int{}
	changed := false
	for _, p := range res.Citations {
		n := len(c.list) + 1
		if _, seen := mapping[p.Ref]; !seen {
			mapping[p.Ref] = n
		}
		if p.Ref != n {
			changed = true
		}
		p.Ref = n
		c.list = append(c.list, p)
	}
	if !changed {
		return res.Content
	}
	var doc any
	if err := json.Unmarshal([]byte(res.Content), &doc); err != nil {
		return res.Content // words, not JSON: nothing to renumber
	}
	renumber(doc, mapping)
	out, err := json.Marshal(doc)
	if err != nil {
		return res.Content
	}
	return string(out)
}

// renumber rewrites the "ref" of every passage object (one with a numeric
// ref and a kind) in a tool's JSON content.
func renumber(v any, mapping map[int]int) {
	switch n := v.(type) {
	case map[string]any:
		if ref, ok := n["ref"].(float64); ok {
			if _, isPassage := n["kind"].(string); isPassage {
				if to, ok := mapping[int(ref)]; ok {
					n["ref"] = to
				}
			}
		}
		for _, child := range n {
			renumber(child, mapping)
		}
	case []any:
		for _, child := range n {
			renumber(child, mapping)
		}
	}
}

// markerPattern finds citation markers: [3], [1, 2], [1][4].
var markerPattern = regexp.MustCompile(`\[(\d+(?:\s*,\s*\d+)*)\]`)

var numberPattern = regexp.MustCompile(`\d+`)

// cited returns the passages the answer cites by marker, in ref order;
// when it cites none by number, every passage it was given (the sources
// it consulted).
func (c *citations) cited(answer string) []provider.Passage {
	refs := map[int]bool{}
	for _, m := range markerPattern.FindAllStringSubmatch(answer, -1) {
		for _, d := range numberPattern.FindAllString(m[1], -1) {
			if n, err := strconv.Atoi(d); err == nil {
				refs[n] = true
			}
		}
	}
	var out []provider.Passage
	for _, p := range c.list {
		if refs[p.Ref] {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		out = slices.Clone(c.list)
	}
	if out == nil {
		out = []provider.Passage{}
	}
	return out
}
