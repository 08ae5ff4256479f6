package train

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/urlvr/urlvr/runlog"
)

// LockFile is the lock a training process holds on its run directory. It
// records the holder's process ID; the lock itself is the kernel's, so it
// disappears with the process, even after a kill -9 or a crash, and a
// leftover file never blocks anyone.
const LockFile = runlog.LockFile

// ErrRunInUse is wrapped by the error returned when another process is
// writing the run directory.
var ErrRunInUse = errors.New("the run directory is in use")

// RunInUseError says which process holds a run directory's lock.
type RunInUseError struct {
	Dir string
	PID int // 0 when the holder has not yet written its ID
}

func (e *RunInUseError) Error() string {
	holder := "another process"
	if e.PID > 0 {
		holder = fmt.Sprintf("process %d", e.PID)
	}
	return fmt.Sprintf("run directory %s is being written by %s (see %s): wait for that run to end or stop it; two writers would interleave its logs",
		e.Dir, holder, filepath.Join(e.Dir, LockFile))
}

func (e *RunInUseError) Unwrap() error { return ErrRunInUse }

// runLock is an exclusive lock on a run directory, held from the moment a
// run is created or resumed until it ends, so that one directory never has
// two writers.
type runLock struct{ f *os.File }

// lockRun takes the lock of the run directory dir without waiting. If
// another process holds it, the error is a *RunInUseError naming it.
func lockRun(dir string) (*runLock, error) {
	path := filepath.Join(dir, LockFile)
	// Never truncate before holding the lock: the holder's ID is in there.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking run directory %s: %w", dir, err)
	}
	if err := lockFile(f); err != nil {
		defer f.Close()
		if errors.Is(err, errLockHeld) {
			return nil, &RunInUseError{Dir: dir, PID: readPID(f)}
		}
		return nil, fmt.Errorf("locking run directory %s: %w", dir, err)
	}
	pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt(pid, 0)
	}
	if err != nil {
		unlockFile(f)
		f.Close()
		return nil, fmt.Errorf("locking run directory %s: recording the process ID: %w", dir, err)
	}
	return &runLock{f: f}, nil
}

// readPID reads the process ID recorded in a lock file (0 if none yet).
func readPID(f *os.File) int {
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 64))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// release gives the lock up. The file stays: removing it would let a
// process that opened it just before lock a file nobody else can see.
func (l *runLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := unlockFile(l.f)
	err = errors.Join(err, l.f.Close())
	l.f = nil
	return err
}
