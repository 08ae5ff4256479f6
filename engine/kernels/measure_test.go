package kernels

import (
	"context"
	"testing"
	"time"
)

func TestMeasureGemm(t *testing.T) {
	bs := Backends()
	got, err := MeasureGemm(context.Background(), bs, []GemmShape{{8, 16, 24}}, []string{"AB", "ATB"}, 3, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2*len(bs) {
		t.Fatalf("%d timings, want %d", len(got), 2*len(bs))
	}
	for _, g := range got {
		if !(g.Best >= g.Median && g.Median > 0) || g.Calls < 3 || g.Shape.Flops() != 2*8*16*24 {
			t.Fatalf("bad timing %+v", g)
		}
	}
	if _, err := MeasureGemm(context.Background(), bs, []GemmShape{{8, 0, 8}}, Layouts, 1, time.Millisecond); err == nil {
		t.Fatal("zero dimension accepted")
	}
	if _, err := MeasureGemm(context.Background(), bs, []GemmShape{{8, 8, 8}}, []string{"BA"}, 1, time.Millisecond); err == nil {
		t.Fatal("unknown layout accepted")
	}
}
