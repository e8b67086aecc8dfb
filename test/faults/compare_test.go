package faults

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// diff compares a run with the reference. It returns "" when the history and every recorded
// status are equal, else the first differing line and both, side by side, line by line.
func diff(ref, got *result) (first, full string) {
	var b strings.Builder
	if got.err != nil {
		fmt.Fprintf(&b, "the run stopped early: %v\n", got.err)
	}
	f1, t1 := sideBySide("status after each step", ref.statuses, got.statuses)
	f2, t2 := sideBySide("order history", ref.history, got.history)
	b.WriteString(t2)
	b.WriteString(t1)
	switch {
	case f2 != "":
		first = "history: " + f2
	case f1 != "":
		first = "status: " + f1
	case got.err != nil:
		first = "stopped early: " + firstLine(got.err.Error())
	default:
		return "", ""
	}
	return first, b.String()
}

// sideBySide prints want and got in two columns, marking each differing line with "≠", and
// returns the first differing pair ("" when all are equal).
func sideBySide(title string, want, got []string) (first, text string) {
	width := len("reference")
	for _, l := range want {
		width = max(width, utf8.RuneCountInString(l))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n    %-*s | %s\n", title, width, "reference", "this run")
	for i := range max(len(want), len(got)) {
		w, g := "(none)", "(none)"
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		mark := "  "
		if w != g {
			mark = "≠ "
			if first == "" {
				first = fmt.Sprintf("line %d: reference %q, got %q", i+1, w, g)
			}
		}
		fmt.Fprintf(&b, "  %s%-*s | %s\n", mark, width, w, g)
	}
	return first, b.String()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
