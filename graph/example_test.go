package graph_test

import (
	"fmt"

	"github.com/meshreach/meshreach/graph"
)

// A compromised front end reaches the database in two hops, but only one of
// the routes is plaintext all the way.
func ExampleGraph_Path() {
	var g graph.Graph[string, string]
	g.SetEdge("shop/web", "shop/cart", "mtls")
	g.SetEdge("shop/cart", "db/pg", "mtls")
	g.SetEdge("shop/web", "legacy/batch", "plaintext")
	g.SetEdge("legacy/batch", "db/pg", "plaintext")

	fmt.Println(g.Path("shop/web", "db/pg", nil))
	fmt.Println(g.Path("shop/web", "db/pg", func(t string) bool { return t == "plaintext" }))
	// Output:
	// [shop/web shop/cart db/pg]
	// [shop/web legacy/batch db/pg]
}
