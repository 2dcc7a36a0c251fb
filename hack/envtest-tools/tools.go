//go:build tools

// Package tools pins the kube-apiserver and etcd sources that hack/envtest-binaries.sh
// builds into bin/k8s for envtest. No prebuilt envtest binaries can be downloaded on
// the project's machines, so they are compiled from Go modules once and cached.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
