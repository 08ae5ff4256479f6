package export

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The CRC-32C check value of "123456789" is 0xE3069283 (RFC 3720, B.4).
// Masked: (c>>15 | c<<17) = 0x0001C60D | 0x25060000 = 0x2507C60D, plus
// 0xA282EAD8 is 0xC78AB0E5 (mod 2^32).
func TestMaskedCRC(t *testing.T) {
	if got := maskedCRC([]byte("123456789")); got != 0xC78AB0E5 {
		t.Fatalf("masked CRC = %08x, want c78ab0e5", got)
	}
}

// The wire bytes below are written out from event.proto and summary.proto
// field by field.
func TestEncodeEventBytes(t *testing.T) {
	got := encodeEvent(Event{WallTime: 1.5, FileVersion: "brain.Event:2"})
	want := append([]byte{0x09, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F, 0x1A, 13}, "brain.Event:2"...)
	if !bytes.Equal(got, want) {
		t.Errorf("file-version event\n got % x\nwant % x", got, want)
	}
	got = encodeEvent(Event{WallTime: 2, Step: 300, Scalars: []Scalar{{Tag: "a", Value: 0.5}}})
	want = []byte{
		0x09, 0, 0, 0, 0, 0, 0, 0, 0x40, // wall_time = 2.0 (field 1, fixed64)
		0x10, 0xAC, 0x02, // step = 300 (field 2, varint: 300 = 0b10_0101100)
		0x2A, 10, // summary (field 5), 10 bytes
		0x0A, 8, // value (field 1), 8 bytes
		0x0A, 1, 'a', // tag "a"
		0x15, 0, 0, 0, 0x3F, // simple_value = 0.5f (field 2, fixed32)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("scalar event\n got % x\nwant % x", got, want)
	}
}

func TestRecordFraming(t *testing.T) {
	var b bytes.Buffer
	if err := writeRecord(&b, []byte("123456789")); err != nil {
		t.Fatal(err)
	}
	raw := b.Bytes()
	if len(raw) != 8+4+9+4 {
		t.Fatalf("record of %d bytes", len(raw))
	}
	if binary.LittleEndian.Uint64(raw) != 9 {
		t.Errorf("length field % x", raw[:8])
	}
	if binary.LittleEndian.Uint32(raw[8:]) != maskedCRC(raw[:8]) {
		t.Error("length CRC")
	}
	if string(raw[12:21]) != "123456789" || binary.LittleEndian.Uint32(raw[21:]) != 0xC78AB0E5 {
		t.Errorf("data or data CRC: % x", raw[12:])
	}
}

func TestEventsRoundTrip(t *testing.T) {
	rows := []Row{
		{Step: 2, Values: map[string]float64{"train/proxy_reward": 0.25, "perf/step_seconds": 2}},
		{Step: 1, Values: map[string]float64{"train/proxy_reward": 0.125, "val/mean/avg@32": 0.4, "perf/step_seconds": 1.5}},
	}
	var b bytes.Buffer
	if err := WriteEvents(&b, 1000, Steps(rows, 1000)); err != nil {
		t.Fatal(err)
	}
	events, err := ReadEvents(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 3 || events[0].FileVersion != FileVersion || events[0].WallTime != 1000 {
		t.Fatalf("events = %+v", events)
	}
	// Step order, and wall time advanced by the step times: 1001.5, 1003.5.
	e1, e2 := events[1], events[2]
	if e1.Step != 1 || e1.WallTime != 1001.5 || e2.Step != 2 || e2.WallTime != 1003.5 {
		t.Errorf("steps/times: %+v %+v", e1, e2)
	}
	if len(e1.Scalars) != 3 || e1.Scalars[1] != (Scalar{"train/proxy_reward", 0.125}) || e1.Scalars[2].Tag != "val/mean/avg@32" || float32(e1.Scalars[2].Value) != float32(0.4) {
		t.Errorf("step 1 scalars: %+v", e1.Scalars)
	}
	// Any flipped byte is caught by a CRC (or the framing).
	for _, at := range []int{3, 9, 20, len(b.Bytes()) - 2} {
		bad := append([]byte(nil), b.Bytes()...)
		bad[at] ^= 0x40
		if _, err := ReadEvents(bytes.NewReader(bad)); err == nil {
			t.Errorf("flipped byte %d not detected", at)
		}
	}
}

func TestReadRunDirAndCSV(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "metrics.jsonl"), []byte(
		`{"step":1,"train/proxy_reward":0.5,"actor/kl":0}`+"\n"+
			"not json\n"+
			`{"step":2,"train/proxy_reward":0.75,"actor/kl":0.001}`+"\n"+
			`{"step":3,"train/pro`), 0o644)
	os.WriteFile(filepath.Join(dir, "validation.jsonl"), []byte(`{"step":2,"val/mean/avg@32":0.4}`+"\n"), 0o644)
	lg, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(lg.Rows) != 2 || lg.Skipped != 2 {
		t.Fatalf("%d rows, %d skipped; want 2 and 2 (the non-JSON line and the torn one)", len(lg.Rows), lg.Skipped)
	}
	var b bytes.Buffer
	if err := WriteCSV(&b, lg.Rows); err != nil {
		t.Fatal(err)
	}
	want := "step,actor/kl,train/proxy_reward,val/mean/avg@32\n1,0,0.5,\n2,0.001,0.75,0.4\n"
	if b.String() != want {
		t.Errorf("csv\n%s\nwant\n%s", b.String(), want)
	}
	files, err := Write(lg, filepath.Join(dir, "export"), 1700000000, true, true)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(files.TFEvents) != "events.out.tfevents.1700000000.urlvr" {
		t.Errorf("event file %s", files.TFEvents)
	}
	f, _ := os.Open(files.TFEvents)
	defer f.Close()
	events, err := ReadEvents(f)
	if err != nil || len(events) != 3 {
		t.Fatalf("read back %d events: %v", len(events), err)
	}
}

func TestReadRejectsEmptyDir(t *testing.T) {
	if _, err := Read(t.TempDir()); err == nil || !strings.Contains(err.Error(), "neither metrics.jsonl") {
		t.Errorf("err = %v", err)
	}
}

func FuzzReadEvents(f *testing.F) {
	var b bytes.Buffer
	WriteEvents(&b, 1, []Event{{Step: 1, Scalars: []Scalar{{"x", 1}}}})
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		ReadEvents(bytes.NewReader(data))
	})
}
