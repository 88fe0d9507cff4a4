package report

import (
	"fmt"
	"strings"
)

// Format is an output format. The zero value is Text.
type Format uint8

// Output formats.
const (
	Text     Format = iota // aligned plain-text tables
	JSON                   // the versioned schema described in the package documentation
	DOT                    // Graphviz DOT
	Markdown               // GitHub-flavoured Markdown tables
	CSV                    // RFC 4180 comma-separated values, one header line
	HTML                   // one self-contained page: inline CSS and JavaScript, no network access
)

var formatNames = [...]string{"text", "json", "dot", "markdown", "csv", "html"}

// Formats returns every format in declaration order.
func Formats() []Format { return []Format{Text, JSON, DOT, Markdown, CSV, HTML} }

// String returns "text", "json", "dot", "markdown", "csv" or "html".
func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", f)
}

// ParseFormat parses the spelling String returns, case-insensitively; "md"
// is Markdown and "" is Text.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "":
		return Text, nil
	case "md":
		return Markdown, nil
	}
	for i, n := range formatNames {
		if strings.EqualFold(n, s) {
			return Format(i), nil
		}
	}
	return 0, fmt.Errorf("invalid output format %q (want text, json, dot, markdown, csv or html)", s)
}
