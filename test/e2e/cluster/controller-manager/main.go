// Package main only anchors the module: build.sh builds
// k8s.io/kubernetes/cmd/kube-controller-manager itself, and this import keeps
// `go mod tidy` from pruning its dependencies out of go.mod/go.sum.
package main

import _ "k8s.io/kubernetes/cmd/kube-controller-manager/app"

func main() {}
