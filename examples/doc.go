// Package examples holds runnable walkthroughs of meshreach (the Example
// functions of its tests) and the test that runs every scenario of the seed
// lesson. It exports nothing.
//
// The command-line tool is [github.com/meshreach/meshreach/examples/meshreach];
// the seed lesson's scenarios, embedded, are
// [github.com/meshreach/meshreach/examples/seed].
package examples
