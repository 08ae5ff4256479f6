package engine

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
)

// The safetensors format: an 8-byte little-endian header length, a JSON
// header mapping each tensor name to its dtype, shape and byte range
// (data_offsets, relative to the end of the header) plus an optional
// "__metadata__" map of strings, then the raw little-endian tensor data.
// urlvr writes float32 tensors and records a CRC-32C of each tensor's bytes
// in the metadata ("crc32c.<name>"), so that corruption is reported with the
// tensor's name; files from elsewhere without checksums load as well.

// maxHeaderBytes bounds the JSON header read from a file.
const maxHeaderBytes = 100 << 20

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// namedTensor is a float32 tensor to write, stored as dtype ("" is F32;
// BF16 and F16 round to nearest even).
type namedTensor struct {
	name  string
	shape []int
	data  []float32
	dtype DType
}

type stEntry struct {
	Dtype       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// writeSafetensors writes the tensors, in order, and the metadata to w.
func writeSafetensors(w io.Writer, tensors []namedTensor, meta map[string]string) error {
	header := make(map[string]any, len(tensors)+1)
	allMeta := map[string]string{"format": "pt"}
	for k, v := range meta {
		allMeta[k] = v
	}
	var off int64
	raw := make([][]byte, len(tensors))
	for i, t := range tensors {
		dt := t.dtype
		if dt == "" {
			dt = DTypeF32
		}
		raw[i] = encodeTensor(t.data, dt)
		n := int64(len(raw[i]))
		header[t.name] = stEntry{Dtype: string(dt), Shape: t.shape, DataOffsets: [2]int64{off, off + n}}
		allMeta["crc32c."+t.name] = strconv.FormatUint(uint64(crc32.Checksum(raw[i], crcTable)), 16)
		off += n
	}
	header["__metadata__"] = allMeta
	js, err := json.Marshal(header)
	if err != nil {
		return err
	}
	// Pad the header with spaces so the data starts 8-byte aligned.
	if pad := (8 - len(js)%8) % 8; pad > 0 {
		js = append(js, bytes.Repeat([]byte{' '}, pad)...)
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(js)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := w.Write(js); err != nil {
		return err
	}
	for i, t := range tensors {
		if _, err := w.Write(raw[i]); err != nil {
			return fmt.Errorf("writing tensor %s: %w", t.name, err)
		}
	}
	return nil
}

// float32Bytes returns the little-endian bytes of x.
func float32Bytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// stFile is an open safetensors file with a validated header.
type stFile struct {
	path      string
	f         *os.File
	entries   map[string]stEntry
	meta      map[string]string
	dataStart int64
}

// dtypeSize is the byte size of the dtypes the engine reads.
var dtypeSize = map[string]int64{"F32": 4, "F16": 2, "BF16": 2}

// openSafetensors opens path and checks its header: every tensor's byte
// range must match its dtype and shape and lie inside the file.
func openSafetensors(path string) (*stFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := parseSafetensorsHeader(path, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return st, nil
}

func parseSafetensorsHeader(path string, f *os.File) (*stFile, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := info.Size()
	var lenBuf [8]byte
	if _, err := f.ReadAt(lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("%s: file of %d bytes is too short for a safetensors header", path, size)
	}
	hlen := binary.LittleEndian.Uint64(lenBuf[:])
	if hlen > maxHeaderBytes || int64(hlen) > size-8 {
		return nil, fmt.Errorf("%s: header length %d does not fit a file of %d bytes (truncated or not safetensors)", path, hlen, size)
	}
	js := make([]byte, hlen)
	if _, err := f.ReadAt(js, 8); err != nil {
		return nil, fmt.Errorf("%s: reading header: %w", path, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(js, &raw); err != nil {
		return nil, fmt.Errorf("%s: corrupt header: %w", path, err)
	}
	st := &stFile{path: path, f: f, entries: make(map[string]stEntry, len(raw)), dataStart: 8 + int64(hlen)}
	dataLen := size - st.dataStart
	type span struct {
		name       string
		begin, end int64
	}
	var spans []span
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &st.meta); err != nil {
				return nil, fmt.Errorf("%s: corrupt metadata: %w", path, err)
			}
			continue
		}
		var e stEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fmt.Errorf("%s: tensor %s: corrupt header entry: %w", path, name, err)
		}
		es, ok := dtypeSize[e.Dtype]
		if !ok {
			return nil, fmt.Errorf("%s: tensor %s: dtype %q is not supported (F32, F16, BF16)", path, name, e.Dtype)
		}
		n := int64(1)
		for _, d := range e.Shape {
			if d < 0 {
				return nil, fmt.Errorf("%s: tensor %s: negative dimension in shape %v", path, name, e.Shape)
			}
			n *= int64(d)
		}
		begin, end := e.DataOffsets[0], e.DataOffsets[1]
		if begin < 0 || end < begin || end-begin != n*es {
			return nil, fmt.Errorf("%s: tensor %s: byte range [%d, %d) does not hold %v of %s", path, name, begin, end, e.Shape, e.Dtype)
		}
		if end > dataLen {
			return nil, fmt.Errorf("%s: tensor %s: data ends at byte %d of %d present (file truncated)", path, name, end, dataLen)
		}
		st.entries[name] = e
		spans = append(spans, span{name, begin, end})
	}
	slices.SortFunc(spans, func(a, b span) int { return int(a.begin - b.begin) })
	for i := 1; i < len(spans); i++ {
		if spans[i].begin < spans[i-1].end {
			return nil, fmt.Errorf("%s: tensors %s and %s overlap", path, spans[i-1].name, spans[i].name)
		}
	}
	return st, nil
}

func (s *stFile) Close() error { return s.f.Close() }

// read converts the named tensor into dst, checking its shape and, when the
// file records one, its checksum. buf is reused scratch space.
func (s *stFile) read(name string, shape []int, dst []float32, buf *[]byte) error {
	e, ok := s.entries[name]
	if !ok {
		return fmt.Errorf("%s: tensor %s is missing", s.path, name)
	}
	if !slices.Equal(e.Shape, shape) {
		return fmt.Errorf("%s: tensor %s has shape %v, the model needs %v", s.path, name, e.Shape, shape)
	}
	n := e.DataOffsets[1] - e.DataOffsets[0]
	if int64(cap(*buf)) < n {
		*buf = make([]byte, n)
	}
	b := (*buf)[:n]
	if _, err := s.f.ReadAt(b, s.dataStart+e.DataOffsets[0]); err != nil {
		return fmt.Errorf("%s: tensor %s: %w", s.path, name, err)
	}
	if want, ok := s.meta["crc32c."+name]; ok {
		if got := strconv.FormatUint(uint64(crc32.Checksum(b, crcTable)), 16); got != want {
			return fmt.Errorf("%s: tensor %s: checksum %s, recorded %s (corrupt data)", s.path, name, got, want)
		}
	}
	switch e.Dtype {
	case "F32":
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case "BF16":
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16)
		}
	case "F16":
		for i := range dst {
			dst[i] = halfToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
		}
	}
	return nil
}

// halfToFloat32 converts an IEEE 754 binary16 value.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: value = frac·2^-24
		v := float32(frac) / (1 << 24)
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}

// errNotCheckpoint marks a directory SaveCheckpoint refuses to replace.
var errNotCheckpoint = errors.New("exists and is not a checkpoint directory")
