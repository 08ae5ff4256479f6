package countdown

import _ "embed"

// PriorsYAML is the Countdown world's suite of base-model priors, in the
// layout of the arithmetic world's priors file (package arith, LoadPriors,
// which reads and validates both).
//
//go:embed priors.yaml
var PriorsYAML []byte
