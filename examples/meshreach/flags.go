package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is a subcommand's flag set with its usage text.
type command struct {
	name  string
	usage string // printed by --help: synopsis, arguments and every flag
	fs    *flag.FlagSet
}

func newCommand(name, usage string) *command {
	fs := flag.NewFlagSet("meshreach "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors and usage are printed by parse
	return &command{name: name, usage: usage, fs: fs}
}

// parse parses flags and positional arguments in any order, as kubectl
// does: "probe a/b c 80 -f x" equals "probe -f x a/b c 80". Everything
// after "--" is positional. It returns the positional arguments, or
// done=true with the exit code when the command must stop: usage printed
// to stdout for --help (exit 0), or an error and a hint printed to stderr
// (exit 2).
func (c *command) parse(args []string, stdout, stderr io.Writer) (pos []string, code int, done bool) {
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

// commonFlags describes the flags addCommon registers, for usage texts.
const commonFlags = `  -f, --filename PATH   a manifest file, a directory (read recursively for
                        *.yaml, *.yml and *.json, leaving out files named
                        expect.yaml) or - for standard input; repeatable
  -o, --output FORMAT   text (default) or json
  -h, --help            print this help
`

// addCommon registers -f/--filename and -o/--output; commonFlags describes
// them in the usage texts.
func (c *command) addCommon(files *listFlag, out *outputFlag) {
	c.fs.Var(files, "f", "")
	c.fs.Var(files, "filename", "")
	*out = "text"
	c.fs.Var(out, "o", "")
	c.fs.Var(out, "output", "")
}
