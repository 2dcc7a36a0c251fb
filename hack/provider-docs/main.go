// Command provider-docs checks or downloads the providers' OpenAPI documents pinned in
// hack/provider-docs.txt (see internal/providerdocs):
//
//	go run ./hack/provider-docs verify     # present and the pinned versions?
//	go run ./hack/provider-docs download   # fetch the pinned versions (needs the internet)
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/consent-operator/consent-operator/internal/providerdocs"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: provider-docs verify|download")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "verify":
		var dir string
		if dir, err = providerdocs.Check(""); err == nil {
			fmt.Println("provider documents: the pinned versions are in", dir)
		}
	case "download":
		err = providerdocs.Download(ctx, &http.Client{Timeout: 2 * time.Minute}, os.Stdout)
	default:
		fmt.Fprintln(os.Stderr, "usage: provider-docs verify|download")
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "provider-docs:", err)
		os.Exit(1)
	}
}
