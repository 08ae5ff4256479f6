package theory

import (
	"fmt"
	"math"
)

// Alpha returns alpha = e^(1/beta), the factor by which one optimal step
// multiplies the odds of the majority answer.
func Alpha(beta float64) float64 { return math.Exp(1 / beta) }

// OptimalPMaj returns p* = alpha p / (1 + (alpha - 1) p), the majority mass
// of the KL-regularised optimum for a fixed majority reward (paper eq. 12).
func OptimalPMaj(p, beta float64) float64 {
	a := Alpha(beta)
	return a * p / (1 + (a-1)*p)
}

// ErrorMultiplier returns the factor by which one step with efficiency eta
// shrinks the error e = 1 - p_maj (paper eq. 18):
// 1 - eta (alpha - 1)(1 - e) / (alpha - (alpha - 1) e).
// At eta = 1 it equals 1/(alpha - (alpha - 1) e), which tends to e^(-1/beta).
func ErrorMultiplier(e, beta, eta float64) float64 {
	a := Alpha(beta)
	return 1 - eta*(a-1)*(1-e)/(a-(a-1)*e)
}

// AsymptoticRate returns the limit of ErrorMultiplier as e -> 0:
// 1 - eta (alpha - 1)/alpha, which is e^(-1/beta) at eta = 1.
func AsymptoticRate(beta, eta float64) float64 {
	a := Alpha(beta)
	return 1 - eta*(a-1)/a
}

// RecursionConfig sets up the Theorem 1 iteration.
type RecursionConfig struct {
	Beta  float64 // KL coefficient of the one-step objective, > 0
	Eta   float64 // step efficiency in (0, 1]; 1 reaches the optimum each step
	P0    float64 // initial majority mass in (0, 1)
	Steps int     // iterations, >= 1
}

// Validate checks the configuration.
func (c RecursionConfig) Validate() error {
	switch {
	case !(c.Beta > 0) || math.IsInf(c.Beta, 0):
		return fmt.Errorf("beta %v must be a positive number", c.Beta)
	case !(c.Eta > 0 && c.Eta <= 1):
		return fmt.Errorf("eta %v must lie in (0, 1]", c.Eta)
	case !(c.P0 > 0 && c.P0 < 1):
		return fmt.Errorf("p0 %v must lie strictly between 0 and 1", c.P0)
	case c.Steps < 1:
		return fmt.Errorf("steps %d must be at least 1", c.Steps)
	}
	return nil
}

// RecursionStep is one iterate of the recursion.
type RecursionStep struct {
	Step int     `json:"step"`
	PMaj float64 `json:"p_maj"`
	// Error is 1 - PMaj, carried separately so that it keeps full relative
	// precision when PMaj rounds to 1.
	Error float64 `json:"error"`
	// PStar is the optimum of the step that starts here (eq. 12).
	PStar float64 `json:"p_star"`
	// Rate is the measured Error[k]/Error[k-1] (0 at step 0, or once the
	// error underflows).
	Rate float64 `json:"rate"`
}

// RecursionResult is the trajectory with its measured and predicted rates.
type RecursionResult struct {
	Steps []RecursionStep `json:"steps"`
	// MeasuredRate is the last defined per-step error ratio.
	MeasuredRate float64 `json:"measured_rate"`
	// TheoreticalRate is e^(-1/beta), the Theorem 1 rate at eta = 1.
	TheoreticalRate float64 `json:"theoretical_rate"`
	// AsymptoticRate is 1 - eta (alpha - 1)/alpha, the limit for any eta.
	AsymptoticRate float64 `json:"asymptotic_rate"`
}

// minError is the smallest error the rate is measured on: below it the
// ratio of two subnormal numbers loses precision.
const minError = 1e-290

// Recursion iterates p_{k+1} = p_k + eta (p*_k - p_k) from P0. It iterates
// the error e = 1 - p directly, e_{k+1} = e_k * ErrorMultiplier(e_k), which
// is the same map without the cancellation of 1 - p near p = 1.
func Recursion(cfg RecursionConfig) (RecursionResult, error) {
	if err := cfg.Validate(); err != nil {
		return RecursionResult{}, err
	}
	res := RecursionResult{
		Steps:           make([]RecursionStep, 0, cfg.Steps+1),
		TheoreticalRate: math.Exp(-1 / cfg.Beta),
		AsymptoticRate:  AsymptoticRate(cfg.Beta, cfg.Eta),
	}
	e := 1 - cfg.P0
	for k := 0; k <= cfg.Steps; k++ {
		st := RecursionStep{Step: k, PMaj: 1 - e, Error: e, PStar: OptimalPMaj(1-e, cfg.Beta)}
		if k > 0 {
			if prev := res.Steps[k-1].Error; prev >= minError && e >= minError {
				st.Rate = e / prev
				res.MeasuredRate = st.Rate
			}
		}
		res.Steps = append(res.Steps, st)
		e *= ErrorMultiplier(e, cfg.Beta, cfg.Eta)
	}
	return res, nil
}
