//go:build !(openblas && cgo)

package openblas

import "github.com/urlvr/urlvr/engine/kernels"

// Available reports whether this build links OpenBLAS.
const Available = false

// Backend reports false: this build does not link OpenBLAS.
func Backend() (kernels.Backend, bool) { return kernels.Backend{}, false }
