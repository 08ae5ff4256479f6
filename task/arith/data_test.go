package arith_test

import (
	"bytes"
	"testing"

	"github.com/urlvr/urlvr/data"
	"github.com/urlvr/urlvr/task/arith"
)

// TestDataLoaderReadsWorld: the generic loader reads the world's files as
// {prompt, answer, data_source} records, with family and tier in Extra.
func TestDataLoaderReadsWorld(t *testing.T) {
	val, err := arith.Validation()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := arith.WriteJSONL(&buf, val[2]); err != nil {
		t.Fatal(err)
	}
	recs, err := data.ReadJSON(&buf, "arith-val-hard.jsonl", data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(val[2]) {
		t.Fatalf("%d records, want %d", len(recs), len(val[2]))
	}
	for i, r := range recs {
		p := val[2][i]
		f, tier, err := arith.FamilyTier(r.Extra)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if r.Prompt != p.Prompt || r.Answer != p.Answer || r.DataSource != p.DataSource || f != p.Family || tier != p.Tier {
			t.Errorf("record %d = %+v, want %+v", i, r, p)
		}
	}
}
