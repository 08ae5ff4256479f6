package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/urlvr/urlvr/dashboard"
)

func init() {
	var addr string
	cmd := &cobra.Command{
		Use:   "dashboard [DIR...]",
		Short: "Watch runs live in the browser: panels, events, rollouts, overlays, studies",
		Long: `dashboard serves a local web page over the runs and studies under DIR (default
runs/): the paper's panels updating while a run trains, events on the step axis,
sample rollouts, several runs overlaid, and each study's views. It also reads
veRL console and file-logger logs and TRL trainer_state.json files found under
DIR. Everything the page needs is inside the binary; it works offline. It
listens on 127.0.0.1 unless --addr says otherwise.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"runs"}
			}
			for _, d := range args {
				// A directory that does not exist yet (no run has started)
				// shows as empty until it does.
				st, err := os.Stat(d)
				if err == nil && !st.IsDir() {
					return fmt.Errorf("dashboard directory %s is not a directory", d)
				}
				if err != nil && !errors.Is(err, os.ErrNotExist) {
					return fmt.Errorf("dashboard directory: %w", err)
				}
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s does not exist yet; its runs will show once it does\n", d)
				}
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listening on %s: %w", addr, err)
			}
			srv := dashboard.New(args)
			srv.ErrorLog = log.New(cmd.ErrOrStderr(), "dashboard: ", 0)
			hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
			fmt.Fprintf(cmd.OutOrStdout(), "dashboard on http://%s/ for %v (Ctrl-C stops it)\n", ln.Addr(), args)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			go func() {
				<-ctx.Done()
				shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				hs.Shutdown(shut)
			}()
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	rootCmd.AddCommand(cmd)
}
