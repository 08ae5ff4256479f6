package hostinfo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCPUModel(t *testing.T) {
	cases := map[string]string{
		"processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t: fpu\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) Processor\n": "Intel(R) Xeon(R) Processor",
		"processor\t: 0\nBogoMIPS\t: 48.00\nProcessor\t: AArch64 Processor rev 0 (aarch64)\n":                                                                             "AArch64 Processor rev 0 (aarch64)",
		"system type\t\t: MT7621\ncpu model\t\t: MIPS 1004Kc V2.15\n":                                                                                                     "MIPS 1004Kc V2.15",
		"processor\t: 0\nmodel name\t:\n": "",
		"":                                "",
	}
	for in, want := range cases {
		if got := cpuModel(in); got != want {
			t.Errorf("cpuModel(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCaches reads a sysfs-shaped directory made here: data, instruction
// and unified caches named by level and type, in index order, and an
// index without a size skipped.
func TestCaches(t *testing.T) {
	dir := t.TempDir()
	write := func(index, name, value string) {
		p := filepath.Join(dir, index)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, name), []byte(value+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range [][4]string{
		{"index0", "1", "Data", "48K"},
		{"index1", "1", "Instruction", "64K"},
		{"index2", "2", "Unified", "2048K"},
		{"index3", "3", "Unified", "491520K"},
	} {
		write(c[0], "level", c[1])
		write(c[0], "type", c[2])
		write(c[0], "size", c[3])
	}
	write("index4", "level", "4") // no size: left out
	if got, want := caches(dir), "L1d 48K, L1i 64K, L2 2048K, L3 491520K"; got != want {
		t.Errorf("caches = %q, want %q", got, want)
	}
	if got := caches(filepath.Join(dir, "none")); got != "" {
		t.Errorf("caches of a missing directory = %q, want \"\"", got)
	}
}

// TestField reads exact keys only: "model" is not "model name".
func TestField(t *testing.T) {
	info := "vendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\ncache size\t: 1024 KB\n\nprocessor\t: 1\nmodel\t\t: 3\n"
	for key, want := range map[string]string{"cpu family": "26", "model": "2", "model name": "AMD EPYC", "cache size": "1024 KB", "stepping": ""} {
		if got := field(info, key); got != want {
			t.Errorf("field(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestDescribeNamesCPUs(t *testing.T) {
	d := Describe()
	if !strings.Contains(d, " CPUs") || strings.Count(d, "; ") < 1 {
		t.Errorf("Describe() = %q: want the CPU and its count", d)
	}
}
