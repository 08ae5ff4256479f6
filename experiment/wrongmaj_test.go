package experiment

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urlvr/urlvr/train"
)

// wrongMajorityOverrides make the run a few steps on short rollouts.
var wrongMajorityOverrides = []string{
	"data.train=world:train", "data.validation=[world:val-mid]",
	"rollout.n=4", "rollout.max_response_length=64",
	"trainer.global_batch=4", "trainer.mini_batch=4", "trainer.steps=2",
	"trainer.save_every=2", "trainer.sample_every=0",
	"eval.every=2", "eval.n=2",
}

func TestWrongMajorityStudySelectsWrongMajoritiesAndTrains(t *testing.T) {
	// two-wrong's prior makes its confident majority wrong on two of the
	// six families, so a short scan finds wrong majorities.
	out := t.TempDir()
	o := WrongMajorityOptions{
		Options: Options{Out: out, Overrides: append([]string{"model.base=two-wrong"}, wrongMajorityOverrides...)},
		Samples: 8, Size: 4, Scan: 48,
	}
	rep, err := RunWrongMajority(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	sel := rep.Selection
	if sel.Scanned != 48 || sel.Samples != 8 || sel.Wrong < len(sel.Selected) || len(sel.Selected) == 0 || len(sel.Selected) > 4 {
		t.Fatalf("selection %+v", sel)
	}
	// The selected problems are the scanned ones in the loader's form,
	// the most confidently wrong first.
	chosen, _, err := train.LoadProblems(filepath.Join(out, SelectionFile))
	if err != nil {
		t.Fatal(err)
	}
	all, _, _ := train.LoadProblems("world:train")
	byID := map[string]train.Problem{}
	for _, p := range all[:48] {
		byID[p.ID] = p
	}
	for i, p := range chosen {
		orig, ok := byID[p.ID]
		if !ok || orig.Prompt != p.Prompt || orig.Answer != p.Answer || p.ID != sel.Selected[i].ID {
			t.Errorf("selected problem %d: %+v, scanned as %+v", i, p, orig)
		}
		if i > 0 && sel.Selected[i].Share > sel.Selected[i-1].Share {
			t.Errorf("selection not ordered by majority share: %+v", sel.Selected)
		}
		// A wrong majority holds at least a share of the votes that no
		// correct class beats, so the mean correctness is below 1 - share
		// + ... at most 1 - share.
		if s := sel.Selected[i]; s.Avg > 1-s.Share+1e-12 {
			t.Errorf("problem %s: accuracy %v with a wrong majority of share %v", s.ID, s.Avg, s.Share)
		}
	}
	if rep.Run.Steps != 2 || rep.Run.Problems != len(chosen) {
		t.Errorf("run %+v", rep.Run)
	}
	table, err := os.ReadFile(filepath.Join(out, ResultsTable))
	if err != nil || !strings.Contains(string(table), "# Majority voting on problems with wrong majorities") || strings.Contains(string(table), "By training-set size") {
		t.Errorf("results.md (%v):\n%s", err, table)
	}
	// A rerun reuses the selection and trains nothing.
	before, _ := os.ReadFile(filepath.Join(out, SelectionReport))
	if _, err := RunWrongMajority(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(out, SelectionReport))
	if string(before) != string(after) {
		t.Error("the rerun selected again")
	}
	var saved Selection
	if err := json.Unmarshal(after, &saved); err != nil || saved.Model != "two-wrong" {
		t.Errorf("selection.json: %v %+v", err, saved)
	}
}

func TestWrongMajorityStudyRefusesBadInput(t *testing.T) {
	tiny := tinyModels(t, 7)
	for _, c := range []struct {
		o    WrongMajorityOptions
		want string
	}{
		{WrongMajorityOptions{Samples: 1, Size: 4}, "at least 2 samples"},
		{WrongMajorityOptions{Samples: 8, Size: 0}, "size >= 1"},
		{WrongMajorityOptions{Samples: 8, Size: 4, Options: Options{Overrides: []string{"data.subset=4"}}}, "the study sets"},
		{WrongMajorityOptions{Samples: 8, Size: 4, Options: Options{Overrides: []string{"model.base=" + t.TempDir()}}}, "not a usable model"},
		{WrongMajorityOptions{Samples: 4, Size: 4, Scan: -1, Options: Options{Overrides: append([]string{"model.base=" + tiny[0]}, wrongMajorityOverrides...)}}, "scan >= 0"},
	} {
		c.o.Out = t.TempDir()
		if _, err := RunWrongMajority(context.Background(), c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.o, err, c.want)
		}
	}
}
