// Package main only anchors the module: build.sh builds go.etcd.io/etcd/server/v3
// (etcd's own main package) and this import keeps `go mod tidy` from pruning
// its dependencies out of go.mod/go.sum.
package main

import _ "go.etcd.io/etcd/server/v3/etcdmain"

func main() {}
