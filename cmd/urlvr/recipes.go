package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/urlvr/urlvr/recipes"
)

func init() {
	rootCmd.AddCommand(&cobra.Command{
		Use:   "recipes",
		Short: "List the built-in training recipes (urlvr train --config NAME)",
		Long: `recipes lists the training recipes built into urlvr. Each is addressable by
name from any directory: urlvr train --config ground_truth. A path to a YAML
file works too, and a recipe's text is in recipes/NAME.yaml of the source.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			for _, n := range recipes.Names() {
				fmt.Fprintf(tw, "%s\t%s\n", n, recipes.Summary(n))
			}
			return tw.Flush()
		},
	})
}
