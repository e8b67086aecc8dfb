package plugin

import (
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/term"
)

// colour is an ANSI colour of a table cell; the zero value is none.
type colour string

const (
	plain  colour = ""
	green  colour = "\x1b[32m"
	red    colour = "\x1b[31m"
	yellow colour = "\x1b[33m"
	bold   colour = "\x1b[1m"
	reset         = "\x1b[0m"
)

// useColour decides whether output is coloured: only on a terminal, and never when the NO_COLOR
// environment variable is set to anything but "" (https://no-color.org).
func useColour(terminal bool, noColor string) bool {
	return terminal && noColor == ""
}

// isTerminal reports whether w is a terminal; a pipe, a file or a buffer is not. Tests replace it.
var isTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// cell is one cell of a table: its text and colour.
type cell struct {
	text   string
	colour colour
}

// c is a cell without colour.
func c(text string) cell { return cell{text: text} }

// table is rows of cells under a header, printed in aligned columns as kubectl prints them:
// upper-case titles, three spaces between columns, colour (when on) around the text only, so that
// the escape codes take no width.
type table struct {
	header []string
	rows   [][]cell
	indent string
}

func (t *table) add(cells ...cell) { t.rows = append(t.rows, cells) }

// addText adds a row of cells without colour.
func (t *table) addText(texts ...string) {
	row := make([]cell, len(texts))
	for i, s := range texts {
		row[i] = c(s)
	}
	t.add(row...)
}

// write prints the table to w, with colour when coloured.
func (t *table) write(w io.Writer, coloured bool) error {
	widths := make([]int, len(t.header))
	grow := func(i int, s string) {
		for len(widths) <= i {
			widths = append(widths, 0)
		}
		widths[i] = max(widths[i], utf8.RuneCountInString(s))
	}
	for i, h := range t.header {
		grow(i, h)
	}
	for _, r := range t.rows {
		for i, cl := range r {
			grow(i, cl.text)
		}
	}
	var b strings.Builder
	line := func(cells []cell) {
		var l strings.Builder
		l.WriteString(t.indent)
		for i, cl := range cells {
			if coloured && cl.colour != plain && cl.text != "" {
				l.WriteString(string(cl.colour) + cl.text + reset)
			} else {
				l.WriteString(cl.text)
			}
			if i < len(cells)-1 {
				l.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cl.text)+3))
			}
		}
		b.WriteString(strings.TrimRight(l.String(), " "))
		b.WriteString("\n")
	}
	if len(t.header) > 0 {
		hs := make([]cell, len(t.header))
		for i, h := range t.header {
			hs[i] = c(strings.ToUpper(h))
		}
		line(hs)
	}
	for _, r := range t.rows {
		line(r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
