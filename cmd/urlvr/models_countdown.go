package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/urlvr/urlvr/basemodel"
)

// evalCountdownModel measures a Countdown world's model (solving
// countdown:val, judging candidates with P1 and P2) with the sampling
// settings of the arithmetic evaluation (--n, --temperature, --seed), and
// records the report in its manifest when asked.
func evalCountdownModel(ctx context.Context, cmd *cobra.Command, m *basemodel.Model, o basemodel.EvalOptions, record bool) (*basemodel.CountdownReport, error) {
	co := basemodel.DefaultCountdownEvalOptions()
	co.N, co.Temperature, co.Seed = o.N, o.Temperature, o.Seed
	rep, err := basemodel.EvaluateCountdown(ctx, m, co)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "[%s] evaluated in %.1fs\n", m.Name, rep.Seconds)
	if !record {
		return rep, nil
	}
	if m.Manifest == nil {
		return nil, fmt.Errorf("%s: no manifest to record the evaluation in", m.Name)
	}
	if co != basemodel.DefaultCountdownEvalOptions() {
		return nil, fmt.Errorf("--record keeps only evaluations with the default options in manifests")
	}
	m.Manifest.Countdown = rep
	if err := basemodel.WriteManifest(m.Dir, m.Manifest); err != nil {
		return nil, err
	}
	return rep, nil
}
