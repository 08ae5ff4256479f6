package data

import (
	"bytes"
	"fmt"
	"testing"
)

func benchRecords(n int) []Record {
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = Record{
			Prompt:     fmt.Sprintf("Compute (%d + %d) * %d. Put the final answer in \\boxed{}.", i, i+1, i%7),
			Answer:     fmt.Sprint((2*i + 1) * (i % 7)),
			DataSource: "arith/tier2",
		}
	}
	return recs
}

func BenchmarkReadJSON(b *testing.B) {
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, benchRecords(1000)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, err := ReadJSON(bytes.NewReader(buf.Bytes()), "bench.jsonl", Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadParquet(b *testing.B) {
	var buf bytes.Buffer
	if err := WriteParquet(&buf, benchRecords(1000)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, err := ReadParquet(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "bench.parquet", Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
