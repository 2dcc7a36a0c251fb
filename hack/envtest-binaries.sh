#!/usr/bin/env bash
# Builds the control-plane binaries envtest and `make dev` need (kube-apiserver v1.36.3,
# etcd v3.6.8, kubectl v1.36.3) from Go modules into bin/k8s, once. Prebuilt envtest
# binaries cannot be downloaded on the project's machines, so they are compiled from the
# versions pinned in hack/envtest-tools/go.mod. Prints the directory for KUBEBUILDER_ASSETS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bin/k8s"
mkdir -p "$out"
cd "$root/hack/envtest-tools"

build() { # name package
  local name=$1 pkg=$2
  if [ -x "$out/$name" ] && [ "$out/$name" -nt go.mod ]; then
    return 0
  fi
  echo ">> building $name from $pkg (first build takes a few minutes on 2 cores)" >&2
  local start=$SECONDS
  CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$out/$name.tmp" "$pkg"
  mv "$out/$name.tmp" "$out/$name"
  echo ">> built $name in $((SECONDS - start))s" >&2
}

build etcd go.etcd.io/etcd/server/v3
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build kubectl k8s.io/kubernetes/cmd/kubectl
echo "$out"
