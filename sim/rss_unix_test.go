//go:build unix

package sim_test

import (
	"runtime"
	"syscall"
)

// peakRSSMB returns the largest resident set size the process has had so
// far, in MB (10^6 bytes), from getrusage(RUSAGE_SELF).ru_maxrss, or 0
// when the system does not say. ru_maxrss is in kilobytes, except on
// Darwin, where it is in bytes. It never goes down: a benchmark reading it
// sees the peak of everything the process ran before, so run one size per
// process for a figure of that size alone.
func peakRSSMB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	b := float64(ru.Maxrss) * 1024
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		b = float64(ru.Maxrss)
	}
	return b / 1e6
}
