package train

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/urlvr/urlvr/runlog"
)

func TestDroppedPromptsAreCounted(t *testing.T) {
	cfg := tinyConfig(t, tinyBase(t))
	cfg.Trainer.Steps = 1
	cfg.Eval.Every = 0
	cfg.Rollout.MaxPromptLength = 14 // "Q: 7*(57-40)=?\n" and longer are left out
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	events, st, err := runlog.ReadFile[runlog.EventRow](filepath.Join(tr.Dir(), EventsFile))
	if err != nil || st.Skipped != 0 {
		t.Fatal(err, st)
	}
	var found bool
	for _, e := range events {
		if e.Event == runlog.EventPromptsDropped && e.Dataset == cfg.Data.Train {
			found = true
			if *e.Dropped <= 0 || *e.Dropped >= *e.Of || *e.Of != 40 || *e.Dropped+len(tr.train) != *e.Of {
				t.Errorf("dropped %d of %d, kept %d", *e.Dropped, *e.Of, len(tr.train))
			}
		}
	}
	if !found {
		t.Fatalf("no prompts_dropped event for %s in %+v", cfg.Data.Train, events)
	}
}
