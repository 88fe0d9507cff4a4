package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is a subcommand's flag set with its usage text and the flags
// every subcommand has: -f/--filename and -o/--output (described by
// commonFlags in the usage texts).
type command struct {
	name  string
	usage string // printed by --help: synopsis, arguments and every flag
	fs    *flag.FlagSet
	files listFlag
	out   outputFlag
}

func newCommand(name, usage string) *command {
	c := newBareCommand(name, usage)
	c.fs.Var(&c.out, "o", "")
	c.fs.Var(&c.out, "output", "")
	return c
}

// newBareCommand is a command with -f/--filename but no -o.
func newBareCommand(name, usage string) *command {
	fs := flag.NewFlagSet("meshreach "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors and usage are printed by parse
	c := &command{name: name, usage: usage, fs: fs, out: "text"}
	fs.Var(&c.files, "f", "")
	fs.Var(&c.files, "filename", "")
	return c
}

// parse parses flags and positional arguments in any order, as kubectl
// does: "probe a/b c 80 -f x" equals "probe -f x a/b c 80". Everything
// after "--" is positional. It wants exactly n positional arguments (named
// by names in the error) and at least one -f. It returns the positional
// arguments, or done=true with the exit code when the command must stop:
// usage printed to stdout for --help (exit 0), or an error and a hint
// printed to stderr (exit 2).
func (c *command) parse(args []string, n int, names string, stdout, stderr io.Writer) (pos []string, code int, done bool) {
	pos, code, done = c.parseInterleaved(args, stdout, stderr)
	switch {
	case done:
		return nil, code, true
	case len(pos) != n:
		return nil, c.fail(stderr, fmt.Sprintf("want %s, got %d argument(s)", names, len(pos))), true
	case len(c.files) == 0:
		return nil, c.fail(stderr, "no manifests: give -f PATH (a file, a directory or -)"), true
	}
	return pos, 0, false
}

// parseInterleaved separates flags from positional arguments; see parse.
func (c *command) parseInterleaved(args []string, stdout, stderr io.Writer) (pos []string, code int, done bool) {
	for {
		err := c.fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, c.usage)
			return nil, exitOK, true
		}
		if err != nil {
			return nil, c.fail(stderr, err.Error()), true
		}
		rest := c.fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), 0, false
		}
		if len(rest) == 0 {
			return pos, 0, false
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// fail prints a usage error and returns the bad-input exit code.
func (c *command) fail(stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "meshreach %s: %s\nRun \"meshreach %s --help\" for usage.\n", c.name, msg, c.name)
	return exitBadInput
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// outputFlag is -o: "text" or "json".
type outputFlag string

func (o *outputFlag) String() string { return string(*o) }

func (o *outputFlag) Set(s string) error {
	if s != "text" && s != "json" {
		return fmt.Errorf("invalid output format %q (want text or json)", s)
	}
	*o = outputFlag(s)
	return nil
}

// commonFlags describes the flags every command has, for usage texts.
const commonFlags = `  -f, --filename PATH   a manifest file, a directory (read recursively for
                        *.yaml, *.yml and *.json, leaving out files named
                        expect.yaml) or - for standard input; repeatable
  -o, --output FORMAT   text (default) or json
  -h, --help            print this help
`
