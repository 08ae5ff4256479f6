package countdown

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestSplitsAreDisjointSolvableAndShipped(t *testing.T) {
	train, val, err := Splits()
	if err != nil {
		t.Fatal(err)
	}
	if len(train) < 4000 || len(val) < 1000 {
		t.Fatalf("%d training and %d validation instances, want at least 4000 and 1000", len(train), len(val))
	}
	inTrain := map[string]bool{}
	three := 0
	for _, inst := range train {
		inTrain[key(inst)] = true
		if len(inst.Numbers) == 3 {
			three++
		}
	}
	if three < len(train)/3 || three > 2*len(train)/3 {
		t.Errorf("%d of %d training instances have 3 numbers; the generator draws 3 or 4 evenly", three, len(train))
	}
	for _, inst := range val {
		if inTrain[key(inst)] {
			t.Fatalf("validation instance %v is also a training one", inst)
		}
		e, err := Parse(inst.Solution)
		if err != nil {
			t.Fatalf("solution %q: %v", inst.Solution, err)
		}
		if v, err := e.Eval(); err != nil || !v.IsInt() || v.Num().Int64() != int64(inst.Target) {
			t.Fatalf("solution %q of %v does not reach %d", inst.Solution, inst.Numbers, inst.Target)
		}
	}
	// The shipped files are these splits.
	for _, s := range []struct {
		name string
		set  []Instance
	}{{TrainSplit.Name, train}, {ValidationSplit.Name, val}} {
		f, err := os.Open(filepath.Join("..", "..", "datasets", "countdown", s.name+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		i := 0
		for ; sc.Scan(); i++ {
			var r Record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			if i >= len(s.set) || !reflect.DeepEqual(r, RecordOf(s.set[i], s.name)) {
				t.Fatalf("%s line %d differs from the split; run urlvr world countdown", s.name, i+1)
			}
		}
		f.Close()
		if i != len(s.set) {
			t.Fatalf("%s has %d lines, want %d", s.name, i, len(s.set))
		}
	}
}
