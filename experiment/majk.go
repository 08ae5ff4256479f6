package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urlvr/urlvr/internal/atomicfile"
	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/train"
)

// The many-sample comparison of paper Table 9: after test-time training,
// is the trained model's avg@k above the base model's maj@k, for k up to
// 1024? avg@k's expectation is the same for every k (each sample is as
// likely correct as the first), so the trained model's avg@k is its mean
// correctness over all n samples; the base model's maj@k is estimated for
// each k < n by the subset mean of metrics.MajAtKEstimate.

// MajKOptions configure the comparison.
type MajKOptions struct {
	Out string
	// Base is the base model and Trained the test-time-trained one (a
	// run's checkpoint directory), each a suite name or directory.
	Base, Trained string
	// Sets are the held-out datasets (specs as data.validation takes).
	Sets []string
	// Samples is n, the samples per problem of each model; Ks the k of
	// maj@k (each in [1, n]); nil is the powers of two up to n.
	Samples int
	Ks      []int
	// Draws is the number of random k-subsets a maj@k estimate averages
	// where enumerating them all is too many.
	Draws int
	// Temperature and MaxNew are the sampling settings; Seed seeds them
	// and the estimates.
	Temperature float64
	MaxNew      int
	Seed        uint64
}

// MajKRow is one set's comparison at one k.
type MajKRow struct {
	Set        string           `json:"set"`
	Problems   int              `json:"problems"`
	K          int              `json:"k"`
	BaseMaj    metrics.Estimate `json:"base_maj"`
	TrainedAvg metrics.Estimate `json:"trained_avg"`
	BaseAvg    metrics.Estimate `json:"base_avg"`
}

// MajKReport is the comparison.
type MajKReport struct {
	Dir   string
	Rows  []MajKRow
	Files []string
}

// RunMajK samples both models on every set (each model and set's samples
// are saved under Out/samples as they finish, so an interrupted comparison
// resumes), estimates the table and writes results.jsonl and results.md.
func RunMajK(ctx context.Context, o MajKOptions) (*MajKReport, error) {
	if o.Out == "" {
		return nil, errors.New("maj@k comparison: no output directory")
	}
	if o.Samples < 1 || o.Draws < 1 || o.MaxNew < 1 || len(o.Sets) == 0 {
		return nil, fmt.Errorf("maj@k comparison: %d samples, %d draws, %d response tokens, %d sets; want each at least 1", o.Samples, o.Draws, o.MaxNew, len(o.Sets))
	}
	if o.Ks == nil {
		for k := 1; k <= o.Samples; k *= 2 {
			o.Ks = append(o.Ks, k)
		}
	}
	for _, k := range o.Ks {
		if k < 1 || k > o.Samples {
			return nil, fmt.Errorf("maj@k comparison: k = %d outside [1, %d samples]", k, o.Samples)
		}
	}
	base, err := openModel(o.Base)
	if err != nil {
		return nil, err
	}
	trained, err := openModel(o.Trained)
	if err != nil {
		return nil, err
	}
	settings := struct {
		Kind        string   `json:"kind"`
		Base        string   `json:"base"`
		Trained     string   `json:"trained"`
		Sets        []string `json:"sets"`
		Samples     int      `json:"samples"`
		Temperature float64  `json:"temperature"`
		MaxNew      int      `json:"max_new_tokens"`
		Seed        uint64   `json:"seed"`
	}{"maj-k", o.Base, o.Trained, o.Sets, o.Samples, o.Temperature, o.MaxNew, o.Seed}
	if err := claimStudy(o.Out, settings); err != nil {
		return nil, err
	}
	rep := &MajKReport{Dir: o.Out}
	for _, spec := range o.Sets {
		problems, name, err := train.LoadProblems(spec)
		if err != nil {
			return nil, err
		}
		s := sampling{N: o.Samples, Temperature: o.Temperature, MaxNew: o.MaxNew, Seed: o.Seed}
		baseSamples, err := cachedSamples(ctx, filepath.Join(o.Out, "samples", "base-"+name+".json"), func() ([]metrics.Samples, error) {
			return sampleClasses(ctx, base, problems, s)
		})
		if err != nil {
			return nil, err
		}
		trainedSamples, err := cachedSamples(ctx, filepath.Join(o.Out, "samples", "trained-"+name+".json"), func() ([]metrics.Samples, error) {
			return sampleClasses(ctx, trained, problems, s)
		})
		if err != nil {
			return nil, err
		}
		rows, err := majKRows(name, baseSamples, trainedSamples, o.Ks, o.Draws, o.Seed)
		if err != nil {
			return nil, err
		}
		rep.Rows = append(rep.Rows, rows...)
	}
	path := filepath.Join(o.Out, ResultsFile)
	if err := writeJSONL(path, asRows(rep.Rows)); err != nil {
		return nil, err
	}
	rep.Files = append(rep.Files, path)
	path = filepath.Join(o.Out, ResultsTable)
	if err := writeText(path, majKMarkdown(rep, o)); err != nil {
		return nil, err
	}
	rep.Files = append(rep.Files, path)
	return rep, nil
}

// cachedSamples reads graded samples saved at path, or draws and saves
// them.
func cachedSamples(ctx context.Context, path string, draw func() ([]metrics.Samples, error)) ([]metrics.Samples, error) {
	if raw, err := os.ReadFile(path); err == nil {
		var s []metrics.Samples
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return s, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, err := draw()
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	return s, atomicfile.WriteFile(path, raw, 0o644)
}

// majKRows estimates, for each k, the base model's maj@k and both models'
// avg@k over the set's problems, each with a bootstrap interval over
// problems.
func majKRows(set string, base, trained []metrics.Samples, ks []int, draws int, seed uint64) ([]MajKRow, error) {
	if len(base) != len(trained) || len(base) == 0 {
		return nil, fmt.Errorf("set %s: %d base and %d trained problems", set, len(base), len(trained))
	}
	baseAvg, trainedAvg := make([]float64, len(base)), make([]float64, len(base))
	for i := range base {
		var err error
		if baseAvg[i], err = metrics.AvgAtK(base[i].Correct); err != nil {
			return nil, fmt.Errorf("set %s, problem %d: %w", set, i, err)
		}
		if trainedAvg[i], err = metrics.AvgAtK(trained[i].Correct); err != nil {
			return nil, fmt.Errorf("set %s, problem %d: %w", set, i, err)
		}
	}
	var rows []MajKRow
	for _, k := range ks {
		maj := make([]float64, len(base))
		for i, s := range base {
			v, err := metrics.MajAtKEstimate(s, k, draws, seed+uint64(i))
			if err != nil {
				return nil, fmt.Errorf("set %s, problem %d: %w", set, i, err)
			}
			maj[i] = v
		}
		cis, err := metrics.BootstrapCI([][]float64{maj, trainedAvg, baseAvg}, metrics.BootstrapConfig{Seed: seed})
		if err != nil {
			return nil, err
		}
		rows = append(rows, MajKRow{
			Set: set, Problems: len(base), K: k,
			BaseMaj:    metrics.Estimate{Mean: mean(maj), CI: cis[0]},
			TrainedAvg: metrics.Estimate{Mean: mean(trainedAvg), CI: cis[1]},
			BaseAvg:    metrics.Estimate{Mean: mean(baseAvg), CI: cis[2]},
		})
	}
	return rows, nil
}

func majKMarkdown(rep *MajKReport, o MajKOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Test-time-trained avg@k against the base model's maj@k (paper Table 9)\n\n")
	fmt.Fprintf(&b, "Base %s, trained %s; %d samples per problem at temperature %g (at most %d tokens), seed %d. maj@k is the mean over k-subsets of the samples (ties split), exact where at most %d subsets exist and otherwise over %d random ones; avg@k is the mean correctness. Intervals: 95%% bootstrap over problems.\n\n", o.Base, o.Trained, o.Samples, o.Temperature, o.MaxNew, o.Seed, o.Draws, o.Draws)
	fmt.Fprintf(&b, "| set | problems | k | base maj@k | trained avg@k | trained − base | base avg@k |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rep.Rows {
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %+.3f | %s |\n", r.Set, r.Problems, r.K, estCI(r.BaseMaj), estCI(r.TrainedAvg), r.TrainedAvg.Mean-r.BaseMaj.Mean, estCI(r.BaseAvg))
	}
	return b.String()
}

func estCI(e metrics.Estimate) string {
	return fmt.Sprintf("%.3f [%.3f, %.3f]", e.Mean, e.CI.Lo, e.CI.Hi)
}
