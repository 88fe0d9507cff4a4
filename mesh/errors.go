package mesh

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Sentinel errors wrapped by [Error.Err], for errors.Is.
var (
	ErrUnknownField = errors.New("unknown field")
	ErrInvalidValue = errors.New("invalid value")
	ErrMissingField = errors.New("missing field")
	ErrDuplicate    = errors.New("duplicate object")
	ErrSyntax       = errors.New("syntax error")
)

// Error is one problem in one manifest document (or one legal-but-suspicious
// finding, when returned by [Mesh.Warnings]).
type Error struct {
	Pos  Pos    // file, document, line
	Ref  Ref    // the object, when known
	Path string // field path in the object: "spec.mtls.mode", "spec.egress[0].hosts[1]"
	Err  error  // what is wrong; may wrap ErrUnknownField, ErrInvalidValue, …
}

// Error renders "<pos>: <Kind> <ns>/<name>: <path>: <err>", leaving out the
// parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if s := e.Pos.String(); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	if s := e.Ref.String(); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("unknown error")
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ErrorList is every problem found in the input, sorted by position.
type ErrorList []*Error

// Error renders the first error and a count of the others, as go/scanner
// does. Use the list itself (or [ErrorList.Full]) to see every entry.
func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	case 2:
		return l[0].Error() + " (and 1 more error)"
	}
	return fmt.Sprintf("%s (and %d more errors)", l[0].Error(), len(l)-1)
}

// Full renders every error, one per line.
func (l ErrorList) Full() string {
	var b strings.Builder
	for _, e := range l {
		b.WriteString(e.Error())
		b.WriteByte('\n')
	}
	return b.String()
}

// Unwrap lets errors.Is and errors.As see every entry.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Err returns nil for an empty list and the list otherwise, so callers never
// return a typed nil.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Sort orders the list by file, line, document, then message, and drops
// exact duplicates.
func (l *ErrorList) Sort() {
	slices.SortStableFunc(*l, compareErrors)
	*l = slices.CompactFunc(*l, func(a, b *Error) bool { return a.Error() == b.Error() })
}

func compareErrors(a, b *Error) int {
	if c := strings.Compare(a.Pos.File, b.Pos.File); c != 0 {
		return c
	}
	if a.Pos.Line != b.Pos.Line {
		return a.Pos.Line - b.Pos.Line
	}
	if a.Pos.Doc != b.Pos.Doc {
		return a.Pos.Doc - b.Pos.Doc
	}
	return strings.Compare(a.Error(), b.Error())
}
