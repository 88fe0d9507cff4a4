//go:build !unix

package sim_test

// peakRSSMB returns 0: the peak resident set size is read only on Unix
// systems (see rss_unix_test.go).
func peakRSSMB() float64 { return 0 }
