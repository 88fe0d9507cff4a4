package report

import (
	"encoding/csv"
	"io"
	"strings"
	"unicode/utf8"
)

// table is the common shape of the tabular formats (text, Markdown, CSV and
// the tables of the HTML pages): a title, a header and rows of cells.
type table struct {
	Title string   // a heading; "" for none
	Cols  []string // header
	Right []bool   // per column: align right (numbers); may be shorter than Cols
	Rows  [][]string
}

func (t *table) add(cells ...string) { t.Rows = append(t.Rows, cells) }

func (t *table) AlignRight(i int) bool { return i < len(t.Right) && t.Right[i] }

// writeText writes the table with columns separated by two spaces and
// padded to the widest cell, without trailing blanks. The title, when set,
// comes first on its own line, prefixed "== ". A table without rows is its
// title alone.
func (t *table) writeText(w *errWriter) {
	if t.Title != "" {
		w.printf("== %s\n", t.Title)
	}
	if len(t.Rows) == 0 {
		return // a header over nothing says less than the line after it
	}
	width := make([]int, len(t.Cols))
	for _, r := range append([][]string{t.Cols}, t.Rows...) {
		for i, c := range r {
			if i < len(width) {
				width[i] = max(width[i], utf8.RuneCountInString(c))
			}
		}
	}
	for _, r := range append([][]string{t.Cols}, t.Rows...) {
		var b strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", max(0, width[min(i, len(width)-1)]-utf8.RuneCountInString(c)))
			if i > 0 {
				b.WriteString("  ")
			}
			if t.AlignRight(i) {
				b.WriteString(pad)
				b.WriteString(c)
			} else {
				b.WriteString(c)
				b.WriteString(pad)
			}
		}
		w.printf("%s\n", strings.TrimRight(b.String(), " "))
	}
}

// writeMarkdown writes the table as a GitHub-flavoured Markdown table,
// under a "## title" heading when the title is set. Pipes in cells are
// escaped; an empty table still has its header.
func (t *table) writeMarkdown(w *errWriter) {
	if t.Title != "" {
		w.printf("## %s\n\n", t.Title)
	}
	row := func(cells []string) {
		var b strings.Builder
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" ")
			b.WriteString(mdEscape(c))
			b.WriteString(" |")
		}
		w.printf("%s\n", b.String())
	}
	row(t.Cols)
	sep := make([]string, len(t.Cols))
	for i := range sep {
		sep[i] = "---"
		if t.AlignRight(i) {
			sep[i] = "--:"
		}
	}
	w.printf("|%s|\n", strings.Join(sep, "|"))
	for _, r := range t.Rows {
		row(r)
	}
}

// mdEscape keeps a cell on one line and stops it from closing the cell or
// starting emphasis.
func mdEscape(s string) string {
	return strings.NewReplacer("\\", "\\\\", "|", "\\|", "\n", " ", "*", "\\*", "_", "\\_", "`", "\\`", "<", "&lt;").Replace(s)
}

// writeCSV writes the header and the rows as RFC 4180 CSV. The title is
// not written: a CSV file holds one table.
func (t *table) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Cols); err != nil {
		return err
	}
	if err := cw.WriteAll(t.Rows); err != nil {
		return err
	}
	return cw.Error()
}
