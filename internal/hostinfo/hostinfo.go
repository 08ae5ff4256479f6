// Package hostinfo describes the machine a benchmark runs on: the CPU's
// model name and its cache sizes, as Linux reports them. Speed figures
// depend on the machine (the same binary runs at different fractions of
// peak on different processors), so the bench commands print this line
// with their results.
package hostinfo

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Describe returns one line naming the CPU, its logical CPUs and its caches,
// e.g. "Intel(R) Xeon(R) Processor (family 6 model 167); 2 CPUs; L1d 48K,
// L2 2048K, L3 491520K". A virtual machine may report a bare model name
// ("AMD EPYC"), so the x86 family and model numbers follow it; where sysfs
// has no cache directories, /proc/cpuinfo's one "cache size" stands in.
// What the system does not report is left out; on systems without
// /proc/cpuinfo it names GOOS/GOARCH.
func Describe() string {
	info := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		info = string(b)
	}
	model := cpuModel(info)
	if model == "" {
		model = runtime.GOOS + "/" + runtime.GOARCH
	}
	if fam, mod := field(info, "cpu family"), field(info, "model"); fam != "" && mod != "" {
		model += fmt.Sprintf(" (family %s model %s)", fam, mod)
	}
	parts := []string{model, fmt.Sprintf("%d CPUs", runtime.NumCPU())}
	if c := caches("/sys/devices/system/cpu/cpu0/cache"); c != "" {
		parts = append(parts, c)
	} else if c := field(info, "cache size"); c != "" {
		parts = append(parts, "cache size "+c)
	}
	return strings.Join(parts, "; ")
}

// cpuModel returns the value of the first "model name" line of a
// /proc/cpuinfo text (x86), else of the first "Processor" or "cpu model"
// line (some ARM and MIPS kernels), or "".
func cpuModel(cpuinfo string) string {
	for _, key := range []string{"model name", "Processor", "cpu model"} {
		if v := field(cpuinfo, key); v != "" {
			return v
		}
	}
	return ""
}

// field returns the value of the first non-empty "key : value" line of a
// /proc/cpuinfo text whose key is exactly key, or "".
func field(cpuinfo, key string) string {
	for line := range strings.SplitSeq(cpuinfo, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == key {
			if v = strings.TrimSpace(v); v != "" {
				return v
			}
		}
	}
	return ""
}

// caches reads the cache directories under dir (index0, index1, ... with
// level, type and size files, as Linux's sysfs lays them out) and returns
// "L1d 48K, L1i 64K, L2 2048K, L3 491520K", or "" when there are none.
func caches(dir string) string {
	entries, err := filepath.Glob(filepath.Join(dir, "index[0-9]*"))
	if err != nil || len(entries) == 0 {
		return ""
	}
	var out []string
	for _, e := range entries {
		read := func(name string) string {
			b, err := os.ReadFile(filepath.Join(e, name))
			if err != nil {
				return ""
			}
			return strings.TrimSpace(string(b))
		}
		level, kind, size := read("level"), read("type"), read("size")
		if level == "" || size == "" {
			continue
		}
		name := "L" + level
		switch kind {
		case "Data":
			name += "d"
		case "Instruction":
			name += "i"
		}
		out = append(out, name+" "+size)
	}
	return strings.Join(out, ", ")
}
