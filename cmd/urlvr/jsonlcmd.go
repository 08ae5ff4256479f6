package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/urlvr/urlvr/internal/jsonl"
)

// openInput returns the file named by path, or stdin when path is "" or "-".
func openInput(path string) (io.ReadCloser, error) {
	if path == "" || path == "-" {
		return io.NopCloser(os.Stdin), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening input: %w", err)
	}
	return f, nil
}

// runJSONL maps fn over the JSONL input named by --in (or stdin) and writes
// one output line per input line to stdout. It returns errLinesFailed with a
// count when any line failed, so the command exits non-zero after finishing.
func runJSONL(cmd *cobra.Command, inPath string, fn func(jsonl.Record) error) error {
	in, err := openInput(inPath)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := jsonl.Map(in, cmd.OutOrStdout(), fn)
	if err != nil {
		return err
	}
	if st.Failed > 0 {
		return fmt.Errorf("%w: %d of %d", errLinesFailed, st.Failed, st.Lines)
	}
	return nil
}
