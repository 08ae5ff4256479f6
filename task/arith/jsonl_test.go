package arith

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestJSONLRoundTrip(t *testing.T) {
	val, err := Validation()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, val[0]); err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(buf.String(), "\n")
	if want := `{"prompt":"Q: 180+55+28=?\n","answer":"263","data_source":"arith-val-easy","family":"add-carry","tier":1}`; first != want {
		t.Errorf("first line = %s, want %s", first, want)
	}
	back, err := ReadJSONL(&buf, "val.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, val[0]) {
		t.Error("read back differs")
	}
}

func TestReadJSONLErrors(t *testing.T) {
	for name, line := range map[string]string{
		"wrong answer":   `{"prompt":"Q: 1+2=?\n","answer":"4","data_source":"x","family":"add-carry","tier":1}`,
		"bad family":     `{"prompt":"Q: 1+2=?\n","answer":"3","data_source":"x","family":"add","tier":1}`,
		"bad tier":       `{"prompt":"Q: 1+2=?\n","answer":"3","data_source":"x","family":"add-carry","tier":7}`,
		"bad prompt":     `{"prompt":"1+2","answer":"3","data_source":"x","family":"add-carry","tier":1}`,
		"unknown field":  `{"prompt":"Q: 1+2=?\n","answer":"3","data_source":"x","family":"add-carry","tier":1,"x":1}`,
		"not json":       `{"prompt":`,
		"div by zero":    `{"prompt":"Q: 1/0=?\n","answer":"3","data_source":"x","family":"frac-div","tier":1}`,
		"bad expression": `{"prompt":"Q: 1+*2=?\n","answer":"3","data_source":"x","family":"add-carry","tier":1}`,
	} {
		_, err := ReadJSONL(strings.NewReader("\n"+line+"\n"), "f.jsonl")
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.HasPrefix(err.Error(), "f.jsonl:2: ") {
			t.Errorf("%s: error %q does not name the file and line", name, err)
		}
	}
}

func TestSaveLoadJSONL(t *testing.T) {
	val, err := Validation()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "v.jsonl")
	if err := SaveJSONL(path, val[1]); err != nil {
		t.Fatal(err)
	}
	back, err := LoadJSONL(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, val[1]) {
		t.Error("loaded set differs")
	}
	if err := SaveJSONL(filepath.Join(t.TempDir(), "no", "such", "dir.jsonl"), val[1]); err == nil {
		t.Error("SaveJSONL into a missing directory succeeded")
	}
}

func TestFamilyTier(t *testing.T) {
	for _, extra := range []map[string]any{
		{"family": "frac-div", "tier": int64(2)},
		{"family": "frac-div", "tier": 2.0},
		{"family": "frac-div", "tier": 2},
	} {
		f, tier, err := FamilyTier(extra)
		if err != nil || f != FracDiv || tier != 2 {
			t.Errorf("FamilyTier(%v) = %s, %d, %v", extra, f, tier, err)
		}
	}
	for _, extra := range []map[string]any{
		nil, {"family": "frac-div"}, {"family": "x", "tier": 1}, {"family": "frac-div", "tier": 2.5},
		{"family": "frac-div", "tier": 1e300}, {"family": "frac-div", "tier": int64(0)}, {"family": 3, "tier": 1},
	} {
		if _, _, err := FamilyTier(extra); err == nil {
			t.Errorf("FamilyTier(%v) succeeded", extra)
		}
	}
}

// TestShippedDatasets: the files in datasets/arith are exactly what the
// generator makes. If this fails after a deliberate change to the world,
// regenerate them with `urlvr world gen`.
func TestShippedDatasets(t *testing.T) {
	dir := filepath.Join("..", "..", "datasets", "arith")
	val, err := Validation()
	if err != nil {
		t.Fatal(err)
	}
	probe, err := Probe()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]Problem{TrainName: fullTrain(t), ProbeName: probe}
	for i, spec := range ValidationSpecs {
		want[spec.Name] = val[i]
	}
	for name, set := range want {
		path := filepath.Join(dir, name+".jsonl")
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (generate it with: urlvr world gen)", err)
		}
		var buf bytes.Buffer
		if err := WriteJSONL(&buf, set); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, buf.Bytes()) {
			t.Errorf("%s differs from the generator's output; regenerate with: urlvr world gen", path)
		}
	}
}
