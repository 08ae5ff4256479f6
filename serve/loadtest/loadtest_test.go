package loadtest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/serve"
	"github.com/urlvr/urlvr/serve/rewardserver"
)

func TestSummarisePercentiles(t *testing.T) {
	var lat []time.Duration
	for i := 100; i >= 1; i-- {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	l := summarise("x", 1, lat, 2, 2*time.Second, 512)
	// Nearest rank: the 50th, 90th and 99th of 100 sorted values.
	if l.P50 != 50 || l.P90 != 90 || l.P99 != 99 || l.Max != 100 || l.Mean != 50.5 || l.Errors != 2 {
		t.Errorf("%+v", l)
	}
	if l.BatchesPerSec != 50 || l.RolloutsPerSec != 50*512 {
		t.Errorf("throughput %v batches/s, %v rollouts/s", l.BatchesPerSec, l.RolloutsPerSec)
	}
}

func TestMakeBatchIsSeeded(t *testing.T) {
	a, _ := MakeRolloutBatch(3, 4, 8, 100)
	b, _ := MakeRolloutBatch(3, 4, 8, 100)
	c, _ := MakeRolloutBatch(4, 4, 8, 100)
	if !bytes.Equal(a.Verl, b.Verl) || !bytes.Equal(a.OpenRLHF, b.OpenRLHF) || bytes.Equal(a.Verl, c.Verl) {
		t.Error("batches must depend on the seed and on nothing else")
	}
	if len(a.Items) != 32 || len(a.Queries) != 32 {
		t.Errorf("%d items", len(a.Items))
	}
}

func startService(t *testing.T, split rewardserver.SplitPolicy) string {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := rewardserver.New(rewardserver.Config{Estimator: reward.MajorityVoting{}, GroupSize: 8, Split: split, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve.Serve(ctx, ln, srv.Handler(), serve.Limits{}, log, srv.Close) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String()
}

// TestRunSmall runs every phase at a small scale; the real figures come
// from `urlvr serve loadtest`, with the server in another process.
func TestRunSmall(t *testing.T) {
	for _, c := range []struct {
		shape string
		split rewardserver.SplitPolicy
	}{{"verl", rewardserver.SplitReject}, {"openrlhf", rewardserver.SplitReject}, {"openrlhf-split", rewardserver.SplitWait}} {
		t.Run(c.shape, func(t *testing.T) {
			url := startService(t, c.split)
			rep, err := Run(context.Background(), Options{URL: url, Shape: c.shape, Prompts: 4, N: 8, ResponseChars: 100, Batches: 2,
				Concurrency: []int{1, 2}, Requests: 6, Baseline: 3, Disconnects: 4, Fuzz: 40})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Failed() || rep.Mismatches != 0 || rep.FuzzSent != 40 || len(rep.Service) != 2 || rep.Service[1].Requests != 6 {
				t.Fatalf("report %+v", rep)
			}
			// The clients that left mid-body are always noticed; those that
			// left while scored are when the server sees it before answering.
			if rep.DisconnectsCounted < 2 {
				t.Errorf("server counted %v of %d disconnects", rep.DisconnectsCounted, rep.Disconnects)
			}
		})
	}
}
