package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/urlvr/urlvr/foreignlog"
	"github.com/urlvr/urlvr/metrics"
)

// foreignCollapse handles `metrics collapse` on a veRL or TRL log; done is
// false for urlvr's own JSONL, which the caller reads as before.
func foreignCollapse(cmd *cobra.Command, file, format string, cfg metrics.CollapseConfig, require bool) (done bool, err error) {
	if format == "urlvr" {
		return false, nil
	}
	var fm foreignlog.Format
	if format == "auto" {
		if file == "" || file == "-" {
			return false, nil
		}
		if fm, err = foreignlog.Detect(file); err != nil {
			// urlvr's own JSONL, or a file the caller reports as missing.
			return false, nil
		}
	} else if fm, err = foreignlog.ParseFormat(format); err != nil {
		return true, err
	}
	in, err := openInput(file)
	if err != nil {
		return true, err
	}
	defer in.Close()
	lg, err := foreignlog.Read(in, fm)
	if err != nil {
		return true, fmt.Errorf("%s: %w", file, err)
	}
	fl, err := foreignlog.Check(lg.Rows, cfg, foreignlog.DivergenceConfig{})
	if err != nil {
		return true, fmt.Errorf("%s: %w", file, err)
	}
	out := struct {
		Format   foreignlog.Format `json:"format"`
		Steps    int               `json:"steps"`
		Skipped  int               `json:"skipped_lines"`
		Found    map[string]string `json:"found"`
		Missing  []string          `json:"missing"`
		Unmapped []string          `json:"unmapped"`
		foreignlog.Flags
	}{fm, len(lg.Rows), lg.Skipped, lg.Found, lg.Missing, lg.Unmapped, fl}
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return true, err
	}
	if require && (fl.Collapse == nil || !fl.Collapse.Collapsed) {
		return true, fmt.Errorf("no collapse in %s", file)
	}
	return true, nil
}
