// Command urlvr trains language-model policies with unsupervised verifiable
// rewards and measures when that helps and when it collapses.
//
// Each subcommand lives in its own file and only wires flags to a library
// package; the work itself is done in the packages (grade, reward, rl, ...).
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// version is set at link time with -ldflags "-X main.version=...".
var version = "dev"

// rootCmd is the urlvr command tree; each file's init adds its subcommand.
var rootCmd = &cobra.Command{
	Use:   "urlvr",
	Short: "Unsupervised reinforcement learning with verifiable rewards",
	Long: `urlvr trains language-model policies with rewards that need no ground-truth
labels (self-certainty, entropy, majority voting, self-verification, ...), and
measures when that helps and when it collapses: reward and label accuracy, the
Model Collapse Step, test-time training, pass@k/maj@k evaluation.`,
	Version:       version,
	SilenceUsage:  true,
	SilenceErrors: true,
}

// errLinesFailed reports that a JSONL command wrote error lines; the details
// are already on stdout, so main prints only a one-line summary.
var errLinesFailed = errors.New("some input lines failed")

func main() {
	if err := rootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "urlvr:", err)
		os.Exit(1)
	}
}
