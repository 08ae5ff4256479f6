package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func init() {
	rootCmd.AddCommand(&cobra.Command{
		Use:   "train",
		Short: "Train a policy with an unsupervised reward (the main job)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("the trainer is not built yet: it needs the engine, the synthetic world and its base models")
		},
	})
}
