package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Figure is one line of the table: the median of its runs, with min and max.
type Figure struct {
	Group  string    `json:"group"`
	Name   string    `json:"name"`
	Unit   string    `json:"unit"`
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Runs   []float64 `json:"runs,omitempty"`
	NA     string    `json:"na,omitempty"` // why the figure could not be measured
	Note   string    `json:"note,omitempty"`
}

// Report is what bench/results/latest.json holds.
type Report struct {
	StartedAt time.Time         `json:"startedAt"`
	Seconds   float64           `json:"seconds"`
	Host      map[string]string `json:"host"`
	Settings  map[string]string `json:"settings"`
	Figures   []Figure          `json:"figures"`
}

func (r *Report) add(f Figure) { r.Figures = append(r.Figures, f) }

// na records a figure that could not be measured, with the reason.
func (r *Report) na(group, name, unit, reason string) {
	r.add(Figure{Group: group, Name: name, Unit: unit, NA: reason})
}

// stat builds a figure from its runs.
func stat(group, name, unit string, runs []float64) Figure {
	f := Figure{Group: group, Name: name, Unit: unit, Runs: runs}
	if len(runs) == 0 {
		f.NA = "no successful run"
		return f
	}
	s := append([]float64(nil), runs...)
	sort.Float64s(s)
	f.Min, f.Max = s[0], s[len(s)-1]
	if n := len(s); n%2 == 1 {
		f.Median = s[n/2]
	} else {
		f.Median = (s[n/2-1] + s[n/2]) / 2
	}
	return f
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func format(v float64, unit string) string {
	switch {
	case unit == "ratio":
		return fmt.Sprintf("%.2f", v)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// printTable writes the human table, figures grouped in the order groups first appear.
func printTable(w io.Writer, r *Report) {
	var groups []string
	byGroup := map[string][]Figure{}
	for _, f := range r.Figures {
		if _, ok := byGroup[f.Group]; !ok {
			groups = append(groups, f.Group)
		}
		byGroup[f.Group] = append(byGroup[f.Group], f)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tMEDIAN\tMIN\tMAX\tUNIT\tNOTE")
	for _, g := range groups {
		fmt.Fprintf(tw, "[%s]\t\t\t\t\t\n", g)
		for _, f := range byGroup[g] {
			if f.NA != "" {
				fmt.Fprintf(tw, "  %s\tn/a\t-\t-\t%s\t%s\n", f.Name, f.Unit, "n/a: "+f.NA)
				continue
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", f.Name, format(f.Median, f.Unit),
				format(f.Min, f.Unit), format(f.Max, f.Unit), f.Unit, f.Note)
		}
	}
	tw.Flush()
}

func writeJSON(path string, r *Report) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// short trims an error for the table.
func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 90 {
		s = s[:87] + "..."
	}
	return s
}
