package export

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"sort"

	"github.com/urlvr/urlvr/runlog"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maskedCRC is TFRecord's masked CRC-32C: the CRC is rotated and offset so
// that a CRC of data that itself holds CRCs does not degenerate.
func maskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return ((c >> 15) | (c << 17)) + 0xa282ead8
}

// writeRecord frames data as one TFRecord.
func writeRecord(w io.Writer, data []byte) error {
	var head [12]byte
	binary.LittleEndian.PutUint64(head[:8], uint64(len(data)))
	binary.LittleEndian.PutUint32(head[8:], maskedCRC(head[:8]))
	var foot [4]byte
	binary.LittleEndian.PutUint32(foot[:], maskedCRC(data))
	for _, b := range [][]byte{head[:], data, foot[:]} {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// Protocol buffer wire format: a field is a varint key (number << 3 |
// wire type) followed by its value.
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

func appendKey(b []byte, field, wire int) []byte {
	return binary.AppendUvarint(b, uint64(field<<3|wire))
}

func appendBytesField(b []byte, field int, v []byte) []byte {
	b = appendKey(b, field, wireBytes)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// Scalar is one value of one step.
type Scalar struct {
	Tag   string
	Value float64
}

// Event is the subset of tensorflow.Event that export writes and reads.
type Event struct {
	WallTime    float64
	Step        int64
	FileVersion string
	Scalars     []Scalar
}

// encodeEvent serializes an Event.
func encodeEvent(e Event) []byte {
	var b []byte
	b = appendKey(b, 1, wireFixed64)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(e.WallTime))
	if e.Step != 0 {
		b = appendKey(b, 2, wireVarint)
		b = binary.AppendUvarint(b, uint64(e.Step))
	}
	if e.FileVersion != "" {
		b = appendBytesField(b, 3, []byte(e.FileVersion))
	}
	if len(e.Scalars) > 0 {
		var summary []byte
		for _, s := range e.Scalars {
			var v []byte
			v = appendBytesField(v, 1, []byte(s.Tag))
			v = appendKey(v, 2, wireFixed32)
			v = binary.LittleEndian.AppendUint32(v, math.Float32bits(float32(s.Value)))
			summary = appendBytesField(summary, 1, v)
		}
		b = appendBytesField(b, 5, summary)
	}
	return b
}

// FileVersion is what TensorBoard expects in an event file's first record.
const FileVersion = "brain.Event:2"

// WriteEvents writes events as an event file: the file-version record,
// then one record per event.
func WriteEvents(w io.Writer, wallTime float64, events []Event) error {
	bw := bufio.NewWriter(w)
	if err := writeRecord(bw, encodeEvent(Event{WallTime: wallTime, FileVersion: FileVersion})); err != nil {
		return err
	}
	for _, e := range events {
		if err := writeRecord(bw, encodeEvent(e)); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ReadEvents reads an event file, checking the framing and both CRCs of
// every record, and decodes each Event's wall time, step, file version and
// scalar summary values.
func ReadEvents(r io.Reader) ([]Event, error) {
	br := bufio.NewReader(r)
	var out []Event
	for n := 0; ; n++ {
		var head [12]byte
		if _, err := io.ReadFull(br, head[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, fmt.Errorf("record %d: truncated header: %w", n, err)
		}
		if got, want := binary.LittleEndian.Uint32(head[8:]), maskedCRC(head[:8]); got != want {
			return out, fmt.Errorf("record %d: length CRC %08x, want %08x", n, got, want)
		}
		length := binary.LittleEndian.Uint64(head[:8])
		if length > 64<<20 {
			return out, fmt.Errorf("record %d: length %d too large", n, length)
		}
		// Read through a limit rather than allocating the claimed length:
		// a truncated or corrupt file then costs only the bytes it has.
		data, err := io.ReadAll(io.LimitReader(br, int64(length)+4))
		if err != nil {
			return out, fmt.Errorf("record %d: reading data: %w", n, err)
		}
		if uint64(len(data)) < length+4 {
			return out, fmt.Errorf("record %d: truncated data: %d of %d bytes: %w", n, len(data), length+4, io.ErrUnexpectedEOF)
		}
		if got, want := binary.LittleEndian.Uint32(data[length:]), maskedCRC(data[:length]); got != want {
			return out, fmt.Errorf("record %d: data CRC %08x, want %08x", n, got, want)
		}
		e, err := decodeEvent(data[:length])
		if err != nil {
			return out, fmt.Errorf("record %d: %w", n, err)
		}
		out = append(out, e)
	}
}

// field is one decoded protocol-buffer field.
type field struct {
	num, wire int
	u         uint64
	b         []byte
}

func decodeFields(b []byte, each func(field) error) error {
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return errors.New("bad field key")
		}
		b = b[n:]
		f := field{num: int(key >> 3), wire: int(key & 7)}
		switch f.wire {
		case wireVarint:
			f.u, n = binary.Uvarint(b)
			if n <= 0 {
				return errors.New("bad varint")
			}
			b = b[n:]
		case wireFixed64:
			if len(b) < 8 {
				return errors.New("short fixed64")
			}
			f.u, b = binary.LittleEndian.Uint64(b), b[8:]
		case wireFixed32:
			if len(b) < 4 {
				return errors.New("short fixed32")
			}
			f.u, b = uint64(binary.LittleEndian.Uint32(b)), b[4:]
		case wireBytes:
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				return errors.New("bad length-delimited field")
			}
			f.b, b = b[n:n+int(l)], b[n+int(l):]
		default:
			return fmt.Errorf("unsupported wire type %d", f.wire)
		}
		if err := each(f); err != nil {
			return err
		}
	}
	return nil
}

func decodeEvent(b []byte) (Event, error) {
	var e Event
	err := decodeFields(b, func(f field) error {
		switch {
		case f.num == 1 && f.wire == wireFixed64:
			e.WallTime = math.Float64frombits(f.u)
		case f.num == 2 && f.wire == wireVarint:
			e.Step = int64(f.u)
		case f.num == 3 && f.wire == wireBytes:
			e.FileVersion = string(f.b)
		case f.num == 5 && f.wire == wireBytes:
			return decodeFields(f.b, func(v field) error {
				if v.num != 1 || v.wire != wireBytes {
					return nil
				}
				var s Scalar
				err := decodeFields(v.b, func(x field) error {
					switch {
					case x.num == 1 && x.wire == wireBytes:
						s.Tag = string(x.b)
					case x.num == 2 && x.wire == wireFixed32:
						s.Value = float64(math.Float32frombits(uint32(x.u)))
					}
					return nil
				})
				e.Scalars = append(e.Scalars, s)
				return err
			})
		}
		return nil
	})
	return e, err
}

// Steps turns rows (a step and named values) into one Event per step, in
// step order, with the tags sorted. Wall time starts at start and, when a
// row has perf/step_seconds, advances by it, so TensorBoard's relative
// time axis shows the training time.
func Steps(rows []Row, start float64) []Event {
	sorted := append([]Row(nil), rows...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Step < sorted[j].Step })
	var out []Event
	wall := start
	for _, r := range sorted {
		if d, ok := r.Values[runlog.KeyStepSeconds]; ok && d > 0 {
			wall += d
		}
		e := Event{WallTime: wall, Step: r.Step}
		tags := make([]string, 0, len(r.Values))
		for k := range r.Values {
			tags = append(tags, k)
		}
		sort.Strings(tags)
		for _, k := range tags {
			e.Scalars = append(e.Scalars, Scalar{Tag: k, Value: r.Values[k]})
		}
		out = append(out, e)
	}
	return out
}
