package engine

import "fmt"

// tensorSpec places one named tensor (Hugging Face name and shape) in the
// model's flat parameter buffer.
type tensorSpec struct {
	name   string
	shape  []int
	offset int
	size   int
	// decay marks the matrices that weight decay applies to; norms and
	// biases are exempt.
	decay bool
}

// layerWeights are one decoder layer's tensors, views into a flat buffer.
// Shapes (out × in, as Hugging Face stores linear weights):
//
//	inNorm, postNorm [C]; q [H·D × C]; k, v [G·D × C]; o [C × H·D];
//	qBias [H·D], kBias, vBias [G·D], oBias [C] (nil when absent);
//	qNorm, kNorm [D] (nil unless QK norm); gate, up [F × C]; down [C × F].
type layerWeights struct {
	inNorm                       []float32
	q, qBias, k, kBias, v, vBias []float32
	o, oBias                     []float32
	qNorm, kNorm                 []float32
	postNorm                     []float32
	gate, up, down               []float32
}

// weights are all of a model's tensors as views into one flat buffer: the
// parameters, or (with the same layout) their gradients or optimiser moments.
type weights struct {
	embed     []float32 // [V × C]
	layers    []layerWeights
	finalNorm []float32 // [C]
	lmHead    []float32 // [V × C]; the same slice as embed when tied
}

// bindWeights lays the model's tensors out in Hugging Face order over buf and
// returns the views and the table of names, shapes and offsets. With a nil
// buf it only computes the table (the last entry's offset+size is the total).
func bindWeights(c Config, buf []float32) (weights, []tensorSpec) {
	var (
		w     weights
		specs []tensorSpec
		off   int
	)
	take := func(dst *[]float32, name string, decay bool, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		specs = append(specs, tensorSpec{name: name, shape: shape, offset: off, size: n, decay: decay})
		if buf != nil {
			*dst = buf[off : off+n : off+n]
		}
		off += n
	}
	C, F, D := c.HiddenSize, c.IntermediateSize, c.HeadDim
	qDim, kvDim := c.NumHeads*D, c.NumKVHeads*D
	take(&w.embed, "model.embed_tokens.weight", true, c.VocabSize, C)
	w.layers = make([]layerWeights, c.NumLayers)
	for i := range w.layers {
		l := &w.layers[i]
		p := fmt.Sprintf("model.layers.%d.", i)
		take(&l.inNorm, p+"input_layernorm.weight", false, C)
		take(&l.q, p+"self_attn.q_proj.weight", true, qDim, C)
		if c.QKVBias() {
			take(&l.qBias, p+"self_attn.q_proj.bias", false, qDim)
		}
		take(&l.k, p+"self_attn.k_proj.weight", true, kvDim, C)
		if c.QKVBias() {
			take(&l.kBias, p+"self_attn.k_proj.bias", false, kvDim)
		}
		take(&l.v, p+"self_attn.v_proj.weight", true, kvDim, C)
		if c.QKVBias() {
			take(&l.vBias, p+"self_attn.v_proj.bias", false, kvDim)
		}
		take(&l.o, p+"self_attn.o_proj.weight", true, C, qDim)
		if c.OutputBias() {
			take(&l.oBias, p+"self_attn.o_proj.bias", false, C)
		}
		if c.QKNorm() {
			take(&l.qNorm, p+"self_attn.q_norm.weight", false, D)
			take(&l.kNorm, p+"self_attn.k_norm.weight", false, D)
		}
		take(&l.postNorm, p+"post_attention_layernorm.weight", false, C)
		take(&l.gate, p+"mlp.gate_proj.weight", true, F, C)
		take(&l.up, p+"mlp.up_proj.weight", true, F, C)
		take(&l.down, p+"mlp.down_proj.weight", true, C, F)
	}
	take(&w.finalNorm, "model.norm.weight", false, C)
	if c.TieWordEmbeddings {
		w.lmHead = w.embed
	} else {
		take(&w.lmHead, "lm_head.weight", true, c.VocabSize, C)
	}
	return w, specs
}

// numParams is the length of the flat parameter buffer of c.
func numParams(specs []tensorSpec) int {
	last := specs[len(specs)-1]
	return last.offset + last.size
}
