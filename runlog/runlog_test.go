package runlog

import (
	"bytes"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestStepRowEncodesSortedKeysAndNullForNonFinite(t *testing.T) {
	r := StepRow{Step: 3, Epoch: 1, ProxyReward: Opt(0.5), RewardAccuracy: Opt(math.NaN()), Entropy: 0.25,
		ResponseLength: 12, KL: math.Inf(1), SkippedUpdates: 2, StepSeconds: 1.5}
	b, err := Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	// Written as a map was before the rows were typed: sorted keys, nil
	// optional fields absent, a NaN present as null.
	want := `{"actor/entropy":0.25,"actor/kl":null,"actor/response_length":12,"actor/skipped_updates":2,"actor/truncated_fraction":0,` +
		`"epoch":1,"perf/sample_seconds":0,"perf/step_seconds":1.5,"perf/tokens_per_second":0,"perf/update_seconds":0,"step":3,` +
		`"train/no_answer_fraction":0,"train/proxy_reward":0.5,"train/reward_accuracy":null,"train/zero_variance_fraction":0}` + "\n"
	if string(b) != want {
		t.Fatalf("encoded\n%s\nwant\n%s", b, want)
	}
}

func TestRowTagsAreTheKeyConstants(t *testing.T) {
	var tags []string
	rt := reflect.TypeFor[StepRow]()
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		tags = append(tags, name)
	}
	keys := []string{KeyStep, KeyEpoch, KeyProxyReward, KeyGroundTruthReward, KeyLabelAccuracy, KeyRewardAccuracy,
		KeyMajorityRatio, KeyPointBiserial, KeyZeroVariance, KeyNoAnswer, KeyEntropy, KeyResponseLength, KeyTruncated,
		KeyKL, KeyPGLoss, KeyLoss, KeyClipFraction, KeyDualClipFraction, KeyPPOKL, KeyGradNorm, KeyLR, KeySkippedUpdates,
		KeyStepSeconds, KeySampleSeconds, KeyUpdateSeconds, KeyTokensPerSecond,
		KeySelfVerifyReward, KeySelfVerifyOracleReward, KeySelfVerifyAccuracy, KeySelfVerifyParseRate,
		KeySelfVerifyTruePositive, KeySelfVerifyFalsePositive, KeySelfVerifyTokens, KeySelfVerifySeconds}
	sort.Strings(tags)
	sort.Strings(keys)
	if !slices.Equal(tags, keys) {
		t.Fatalf("StepRow tags\n%v\nKey constants\n%v", tags, keys)
	}
}

func TestEventRowLeavesOutWhatDoesNotApply(t *testing.T) {
	from := 4
	for _, c := range []struct {
		row  EventRow
		want string
	}{
		{EventRow{Event: EventSkippedUpdate, Step: 2, Reason: "loss is NaN"}, `{"event":"skipped_update","reason":"loss is NaN","step":2}`},
		{EventRow{Event: EventResume, Step: 4, FromCheckpoint: &from}, `{"event":"resume","from_checkpoint":4,"step":4}`},
	} {
		b, err := Encode(c.row)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != c.want+"\n" {
			t.Errorf("got %s want %s", b, c.want)
		}
	}
}

func TestValidationRowRoundTrip(t *testing.T) {
	row := ValidationRow{Step: 10, K: 4, Mean: 0.375, Sets: []SetScores{
		{Name: "val-easy", Avg: Estimate{0.5, &Interval{0.25, 0.75}}, Maj: Estimate{Value: 0.5},
			Pass: map[int]Estimate{2: {Value: 0.625}, 4: {Value: 0.75}}, ResponseLength: 30},
		{Name: "val-hard", Avg: Estimate{Value: 0.25}, Maj: Estimate{Value: 0}, Pass: map[int]Estimate{4: {Value: 0.5}}, ResponseLength: 40},
	}}
	b, err := Encode(row)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"step":10,"val/mean/avg@4":0.375,"val/val-easy/avg@4":0.5,"val/val-easy/avg@4_ci_hi":0.75,"val/val-easy/avg@4_ci_lo":0.25,` +
		`"val/val-easy/maj@4":0.5,"val/val-easy/pass@2":0.625,"val/val-easy/pass@4":0.75,"val/val-easy/response_length":30,` +
		`"val/val-hard/avg@4":0.25,"val/val-hard/maj@4":0,"val/val-hard/pass@4":0.5,"val/val-hard/response_length":40}` + "\n"
	if string(b) != want {
		t.Fatalf("encoded\n%s\nwant\n%s", b, want)
	}
	rows, st, err := Read[ValidationRow](bytes.NewReader(b))
	if err != nil || st.Rows != 1 {
		t.Fatal(err, st)
	}
	// Sets come back in name order (here, the order written).
	if !reflect.DeepEqual(rows[0], row) {
		t.Fatalf("read back\n%+v\nwant\n%+v", rows[0], row)
	}
}

func TestReadSkipsAndCountsWhatIsNotARow(t *testing.T) {
	log := "# a header\n" +
		`{"step":1,"actor/entropy":0.5}` + "\n" +
		"\n" +
		`{"step":"two"}` + "\n" + // a field of the wrong type
		`{"step":3,"actor/entropy":0.25}` + "\n" +
		`{"step":4,"actor/ent` // torn by a kill
	rows, st, err := Read[StepRow](strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Step != 1 || rows[1].Entropy != 0.25 {
		t.Fatalf("rows %+v", rows)
	}
	if want := (Stats{Rows: 2, Skipped: 3, FirstSkipped: 1, Torn: true}); st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
	// Any JSON object is a Values row; a string field is left out.
	vals, st, err := Read[Values](strings.NewReader(log))
	if err != nil || len(vals) != 3 || len(vals[1]) != 0 || st.Skipped != 2 || st.Rows != 3 {
		t.Fatalf("values %v %+v %v", vals, st, err)
	}
}

func TestSeries(t *testing.T) {
	rows, _, err := Read[Values](strings.NewReader(
		`{"step":1,"a":1,"b":{"c":true}}` + "\n" + `{"a":5}` + "\n" + `{"step":2,"a":2,"b":{"c":false},"s":"x","n":null}` + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := SeriesOf(rows)
	want := Series{"a": {{1, 1}, {2, 2}}, "b/c": {{1, 1}, {2, 0}}}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("series %v, want %v", s, want)
	}
	if got := s.Names("b", ""); !slices.Equal(got, []string{"b/c"}) {
		t.Fatalf("names %v", got)
	}
}

func TestParseValidationKey(t *testing.T) {
	for _, c := range []struct{ key, set, metric string }{
		{"val/val-easy/avg@32", "val-easy", "avg@32"},
		{"val/hub/math500/pass@4", "hub/math500", "pass@4"},
		{"val/mean/avg@8_ci_lo", "mean", "avg@8_ci_lo"},
		{"train/proxy_reward", "", ""},
		{"val/x/", "", ""},
	} {
		set, metric, _ := ParseValidationKey(c.key)
		if set != c.set || metric != c.metric {
			t.Errorf("%s: %q %q", c.key, set, metric)
		}
	}
	if _, _, ok := ParseAtK("avg@4_ci_lo"); ok {
		t.Error("a CI key parsed as a metric at k")
	}
}

func FuzzScan(f *testing.F) {
	f.Add([]byte("{\"step\":1}\n{\"step\":2\n"))
	f.Add([]byte("x\n\n{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		lines := bytes.Count(b, []byte("\n")) + 1
		st, err := Scan(bytes.NewReader(b), func(int, []byte) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		if st.Rows+st.Skipped > lines || (st.Skipped == 0) != (st.FirstSkipped == 0) {
			t.Fatalf("stats %+v for %d lines", st, lines)
		}
	})
}

// mapRow is a row given as its fields, for testing the encoder on any shape.
type mapRow map[string]any

func (r mapRow) Fields() map[string]any { return r }

// Non-finite numbers at any depth are written as null, never as an error
// or a NaN.
func TestEncodeWritesNonFiniteAsNullAtAnyDepth(t *testing.T) {
	row := mapRow{"a": math.NaN(), "b": float32(math.Inf(1)), "c": map[string]any{"d": math.Inf(-1), "e": 1.5},
		"f": []float64{1, math.NaN()}, "g": []any{math.NaN(), "x"}}
	got, err := Encode(row)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"a":null,"b":null,"c":{"d":null,"e":1.5},"f":[1,null],"g":[null,"x"]}` + "\n"
	if string(got) != want {
		t.Fatalf("wrote %s, want %s", got, want)
	}
}
