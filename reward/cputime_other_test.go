//go:build !unix

package reward

import "testing"

// reportCPU reports nothing where process CPU time is not available.
func reportCPU(*testing.B) func() { return func() {} }
