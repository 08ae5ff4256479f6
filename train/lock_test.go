//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package train

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// lockHelperEnv makes the test binary a process that holds a run's lock
// until it is killed (see TestLockHelperProcess).
const lockHelperEnv = "URLVR_TEST_LOCK_HOLDER"

func TestLockHelperProcess(t *testing.T) {
	dir := os.Getenv(lockHelperEnv)
	if dir == "" {
		t.Skip("helper process for TestLockIsHeldAcrossProcessesAndFreedByACrash")
	}
	if _, err := lockRun(dir); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	select {} // until killed
}

// Another process's lock is seen with its PID, and a crash (SIGKILL) of
// that process frees the lock without anyone cleaning up.
func TestLockIsHeldAcrossProcessesAndFreedByACrash(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$")
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("helper: %q %v", line, err)
	}
	_, err = lockRun(dir)
	var inUse *RunInUseError
	if !errors.As(err, &inUse) || inUse.PID != cmd.Process.Pid {
		t.Fatalf("lock held by process %d: got %v", cmd.Process.Pid, err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	l, err := lockRun(dir)
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	defer l.release()
	b, _ := os.ReadFile(filepath.Join(dir, LockFile))
	if strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Fatalf("lock file holds %q, want this process's ID", b)
	}
}

// A lock whose process ID cannot be recorded is not taken: the file is
// /dev/full (through a link), which cannot be truncated or written.
func TestLockFailsWhenThePIDCannotBeRecorded(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full:", err)
	}
	dir := t.TempDir()
	if err := os.Symlink("/dev/full", filepath.Join(dir, LockFile)); err != nil {
		t.Fatal(err)
	}
	l, err := lockRun(dir)
	if err == nil {
		l.release()
		t.Fatal("lockRun succeeded on a lock file that cannot hold the process ID")
	}
	if !strings.Contains(err.Error(), "recording the process ID") {
		t.Errorf("error %q, want it to say that the process ID could not be recorded", err)
	}
}
