package loadtest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"

	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/serve"
	"github.com/urlvr/urlvr/serve/rewardserver"
)

// The library and the service on the same 64 x 8 majority-voting batch:
// their ratio is the service's overhead (HTTP, JSON, run tracking). On a
// shared machine run with -count and compare medians; `urlvr serve
// loadtest` measures the same from a second process under sustained load.

func benchBatch(b *testing.B) *RolloutBatch {
	batch, err := MakeRolloutBatch(1, 64, 8, 600)
	if err != nil {
		b.Fatal(err)
	}
	return batch
}

func BenchmarkLibrary512(b *testing.B) {
	batch := benchBatch(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := reward.ScoreRecords(ctx, reward.MajorityVoting{}, batch.Items, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkService512(b *testing.B) {
	for _, shape := range []string{"verl", "openrlhf"} {
		b.Run(shape, func(b *testing.B) {
			batch := benchBatch(b)
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			srv, err := rewardserver.New(rewardserver.Config{Estimator: reward.MajorityVoting{}, GroupSize: 8, Logger: log})
			if err != nil {
				b.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- serve.Serve(ctx, ln, srv.Handler(), serve.Limits{}, log, srv.Close) }()
			defer func() { cancel(); <-done }()
			url, body := "http://"+ln.Addr().String()+"/v1/rewards", batch.Verl
			if shape == "openrlhf" {
				url, body = "http://"+ln.Addr().String()+"/get_reward", batch.OpenRLHF
			}
			client := &http.Client{}
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}
