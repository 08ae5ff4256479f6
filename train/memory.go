package train

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/rollout"
)

// memoryEstimate is the memory a run needs at its peak: the model state,
// which is allocated once, and the rollouts of the largest batch of
// sequences it samples at once (one training step, or one validation set).
type memoryEstimate struct {
	fixed     float64 // parameters, optimiser, activations: bytes
	sequences float64 // sequences of the largest batch
	seqTokens int     // tokens of one sequence at most (prompt + response)
	perSeq    float64 // bytes one such sequence holds
	setting   string  // the settings that size the batch, e.g. "rollout.n=8 × trainer.global_batch=32"
}

// total is the estimate in bytes (a float: absurd settings overflow int64).
func (m memoryEstimate) total() float64 { return m.fixed + m.sequences*m.perSeq }

// Bytes a rollout holds beside its tokens: the sampled generation, the
// rollout built from it, the prompt+response sequence and the bookkeeping
// of the update (reward, advantage, lengths, score slices).
var (
	perSeqBytes = float64(unsafe.Sizeof(engine.Generation{}) + unsafe.Sizeof(rollout.Rollout{}) +
		3*unsafe.Sizeof([]int{}) + 2*unsafe.Sizeof(engine.SequenceScores{}) + 4*8)
	// Per token: the generation's token (8 bytes) and four float32
	// statistics, the rollout's int32 token, text and answer-mask byte, the
	// sequence's int, and the reference (and old) policy's log-probs.
	perTokenBytes = 8.0 + 4*4 + 4 + 1 + 1 + 8 + 2*4
)

// estimateMemory sizes a run of cfg on a model with config mc, whose
// prompts have at most promptTokens tokens and responses maxNew, and whose
// validation sets have the given numbers of problems.
func estimateMemory(cfg Config, mc engine.Config, params, promptTokens, maxNew int, valProblems []int) memoryEstimate {
	L := promptTokens + maxNew
	est := memoryEstimate{
		seqTokens: L,
		perSeq:    perSeqBytes + perTokenBytes*float64(L),
		sequences: float64(cfg.Trainer.GlobalBatch) * float64(cfg.Rollout.N),
		setting:   fmt.Sprintf("rollout.n=%d × trainer.global_batch=%d", cfg.Rollout.N, cfg.Trainer.GlobalBatch),
	}
	if cfg.Eval.Every > 0 {
		for _, n := range valProblems {
			if s := float64(n) * float64(cfg.Eval.N); s > est.sequences {
				est.sequences = s
				est.setting = fmt.Sprintf("eval.n=%d × %d validation problems", cfg.Eval.N, n)
			}
		}
	}
	// Parameters: the policy, the frozen reference, the gradients, AdamW's
	// two moments and the copy kept to undo a diverging update.
	est.fixed = 4 * 8 * float64(params)
	// Training activations for two micro-batches of full-length sequences
	// (one micro-batch's forward runs beside the previous one's backward):
	// per row and layer the residual stream, norms, projections, the MLP
	// and a row of attention probabilities; the sampler's key/value cache
	// for a chunk of sequences.
	rows := float64(microBatchSeqs) * float64(mc.MaxPositions)
	C, F := float64(mc.HiddenSize), float64(mc.IntermediateSize)
	qkv := float64(mc.NumHeads*mc.HeadDim + 2*mc.NumKVHeads*mc.HeadDim)
	perLayer := 8*C + 3*F + 2*qkv + float64(mc.NumHeads*mc.MaxPositions)
	est.fixed += 2 * 4 * rows * (float64(mc.NumLayers)*perLayer + 8*C + 3*F)
	est.fixed += 4 * 2 * float64(mc.NumLayers) * float64(sampleChunk) * float64(L) * float64(mc.NumKVHeads*mc.HeadDim)
	return est
}

// checkMemory refuses a run whose estimated peak memory exceeds what the
// machine has available, before anything is written, with the figure and
// the settings to lower; settings that ask for billions of rollouts would
// otherwise die in an out-of-memory crash in the middle of a step.
func (t *Trainer) checkMemory() error {
	var valProblems []int
	for _, v := range t.vals {
		valProblems = append(valProblems, len(v.problems))
	}
	limit, _ := t.promptLimit()
	longest := 0
	for _, ids := range t.trainIDs {
		longest = max(longest, len(ids))
	}
	for _, v := range t.vals {
		for _, ids := range v.ids {
			longest = max(longest, len(ids))
		}
	}
	mc := t.policy.Engine.Config()
	est := estimateMemory(t.cfg, mc, t.policy.Engine.NumParams(), min(limit, longest), t.maxNew, valProblems)
	avail, source, ok := availableMemory()
	if !ok || est.total() <= float64(avail) {
		return nil
	}
	return fmt.Errorf("not enough memory: %s is %.4g sequences of up to %d tokens at once, about %s in all; %s available (%s): lower %s",
		est.setting, est.sequences, est.seqTokens, formatBytes(est.total()), formatBytes(float64(avail)), source,
		strings.Join(settingKeys(est.setting), " or "))
}

// settingKeys picks the config keys out of an estimate's setting text.
func settingKeys(setting string) []string {
	var keys []string
	for _, f := range strings.Fields(setting) {
		if k, _, ok := strings.Cut(f, "="); ok {
			keys = append(keys, k)
		}
	}
	return keys
}

// availableMemory is the memory a new allocation can get: /proc/meminfo's
// MemAvailable, or the room left under this process's cgroup limit when
// that is smaller. ok is false where neither can be read.
func availableMemory() (bytes int64, source string, ok bool) {
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if kb, found := meminfoField(b, "MemAvailable"); found {
			bytes, source, ok = kb*1024, "MemAvailable in /proc/meminfo", true
		}
	}
	limit, err1 := os.ReadFile("/sys/fs/cgroup/memory.max")
	used, err2 := os.ReadFile("/sys/fs/cgroup/memory.current")
	if err1 == nil && err2 == nil {
		l, errL := strconv.ParseInt(strings.TrimSpace(string(limit)), 10, 64)
		u, errU := strconv.ParseInt(strings.TrimSpace(string(used)), 10, 64)
		if errL == nil && errU == nil && (!ok || l-u < bytes) {
			bytes, source, ok = max(0, l-u), "the cgroup's memory.max less memory.current", true
		}
	}
	return bytes, source, ok
}

// meminfoField reads a "Name:  123 kB" line of /proc/meminfo.
func meminfoField(meminfo []byte, name string) (int64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || key != name {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0, false
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		return n, err == nil
	}
	return 0, false
}

// formatBytes writes a byte count with a binary unit.
func formatBytes(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", b, units[i])
}
