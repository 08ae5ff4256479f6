package engine

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// DType is how a checkpoint stores the model's weights. The engine computes
// in float32; BF16 and F16 halve a checkpoint's size and are what most Hub
// checkpoints ship as, at the cost of rounding every weight (so a run
// resumes exactly only from F32 checkpoints).
type DType string

// The dtypes a checkpoint can be written in (safetensors names).
const (
	DTypeF32  DType = "F32"
	DTypeBF16 DType = "BF16"
	DTypeF16  DType = "F16"
)

// ParseDType reads a dtype as users and Hugging Face configs spell it:
// f32/float32/fp32, bf16/bfloat16, f16/float16/fp16.
func ParseDType(s string) (DType, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "f32", "fp32", "float32", "":
		return DTypeF32, nil
	case "bf16", "bfloat16":
		return DTypeBF16, nil
	case "f16", "fp16", "float16":
		return DTypeF16, nil
	}
	return "", fmt.Errorf("dtype %q: want f32, bf16 or f16", s)
}

// torchName is the dtype's name in config.json (torch_dtype).
func (d DType) torchName() string {
	switch d {
	case DTypeBF16:
		return "bfloat16"
	case DTypeF16:
		return "float16"
	}
	return "float32"
}

// encodeTensor returns the little-endian bytes of x stored as d.
func encodeTensor(x []float32, d DType) []byte {
	switch d {
	case DTypeBF16, DTypeF16:
		conv := toBF16
		if d == DTypeF16 {
			conv = toF16
		}
		b := make([]byte, 2*len(x))
		for i, v := range x {
			binary.LittleEndian.PutUint16(b[2*i:], conv(v))
		}
		return b
	}
	return float32Bytes(x)
}

// toBF16 rounds a float32 to bfloat16 (its top 16 bits), to nearest even;
// NaN stays NaN.
func toBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if f != f {
		return uint16(b>>16) | 0x40 // a quiet NaN, never rounded to infinity
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// toF16 rounds a float32 to IEEE half precision, to nearest even: values
// beyond the half range become infinities, tiny ones subnormals or zero.
func toF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	e := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if e == 0xff { // infinity or NaN
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	exp := e - 127 + 15
	if exp >= 0x1f {
		return sign | 0x7c00
	}
	if exp <= 0 { // subnormal half: m = M · 2^(exp-14), M with its leading 1
		if exp < -10 {
			return sign
		}
		m := mant | 0x800000
		shift := uint(14 - exp)
		r := m >> shift
		rem, half := m&(1<<shift-1), uint32(1)<<(shift-1)
		if rem > half || (rem == half && r&1 == 1) {
			r++
		}
		return sign | uint16(r)
	}
	r := uint32(exp)<<10 | mant>>13
	if rem := mant & 0x1fff; rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++ // a carry into the exponent is the correct rounding, up to infinity
	}
	return sign | uint16(r)
}
