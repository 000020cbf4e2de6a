// Bench ceiling (never shipped): the node ceiling's work in Go's net/http over crypto/tls,
// with no JavaScript engine under it. A token is verified once (crypto/rsa or
// crypto/ecdsa); every later request is body read, JSON decode, map lookup, write. It
// shows what this machine and the load generator allow a server's latency tail to be.
//
//	go-ceiling -config CONFIG.json -port N
//
// Run it with GOMAXPROCS=1 pinned to one CPU, as the Node servers are.
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

type benchKey struct {
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Pem string `json:"pem"`
}

type benchConfig struct {
	Issuer    string     `json:"issuer"`
	CertFile  string     `json:"certFile"`
	KeyFile   string     `json:"keyFile"`
	CacheSize int        `json:"cacheSize"`
	Keys      []benchKey `json:"keys"`
}

type claims struct {
	Iss string          `json:"iss"`
	Aud json.RawMessage `json:"aud"`
	Exp float64         `json:"exp"`
	Jti string          `json:"jti"`
	K8s struct {
		Namespace string `json:"namespace"`
		Pod       *struct {
			Name string `json:"name"`
			UID  string `json:"uid"`
		} `json:"pod"`
		ServiceAccount struct {
			Name string `json:"name"`
			UID  string `json:"uid"`
		} `json:"serviceaccount"`
	} `json:"kubernetes.io"`
}

type verifier struct {
	issuer string
	keys   map[string]benchKey
	pubs   map[string]crypto.PublicKey
	max    int

	mu      sync.Mutex
	answers map[string][]byte
	order   []string
}

func (v *verifier) answer(token string) []byte {
	v.mu.Lock()
	defer v.mu.Unlock()
	if a, ok := v.answers[token]; ok {
		return a
	}
	a := v.verifyOnce(token)
	if len(v.order) >= v.max {
		delete(v.answers, v.order[0])
		v.order = v.order[1:]
	}
	v.answers[token] = a
	v.order = append(v.order, token)
	return a
}

func rejected() []byte {
	return []byte(`{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","metadata":{},"status":{"authenticated":false,"user":{},"error":"invalid bearer token"}}`)
}

func (v *verifier) verifyOnce(token string) []byte {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return rejected()
	}
	var header struct {
		Kid string `json:"kid"`
		Alg string `json:"alg"`
	}
	var c claims
	h, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	p, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(h, &header) != nil || json.Unmarshal(p, &c) != nil {
		return rejected()
	}
	k, ok := v.keys[header.Kid]
	if !ok || k.Alg != header.Alg {
		return rejected()
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch pub := v.pubs[header.Kid].(type) {
	case *rsa.PublicKey:
		if header.Alg != "RS256" || rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
			return rejected()
		}
	case *ecdsa.PublicKey:
		if header.Alg != "ES256" || len(sig) != 64 ||
			!ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			return rejected()
		}
	default:
		return rejected()
	}
	var aud []string
	if json.Unmarshal(c.Aud, &aud) != nil {
		var one string
		if json.Unmarshal(c.Aud, &one) != nil {
			return rejected()
		}
		aud = []string{one}
	}
	hasIssuer := false
	for _, a := range aud {
		hasIssuer = hasIssuer || a == v.issuer
	}
	if c.Iss != v.issuer || !hasIssuer || c.Exp*1000 < float64(time.Now().UnixMilli()) {
		return rejected()
	}
	ns := c.K8s.Namespace
	extra := map[string][]string{}
	if c.K8s.Pod != nil && c.K8s.Pod.Name != "" && c.K8s.Pod.UID != "" {
		extra["authentication.kubernetes.io/pod-name"] = []string{c.K8s.Pod.Name}
		extra["authentication.kubernetes.io/pod-uid"] = []string{c.K8s.Pod.UID}
	}
	if c.Jti != "" {
		extra["authentication.kubernetes.io/credential-id"] = []string{"JTI=" + c.Jti}
	}
	out, _ := json.Marshal(map[string]any{
		"kind":       "TokenReview",
		"apiVersion": "authentication.k8s.io/v1",
		"metadata":   map[string]any{},
		"status": map[string]any{
			"authenticated": true,
			"user": map[string]any{
				"username": "system:serviceaccount:" + ns + ":" + c.K8s.ServiceAccount.Name,
				"uid":      c.K8s.ServiceAccount.UID,
				"groups":   []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
				"extra":    extra,
			},
			"audiences": []string{v.issuer},
		},
	})
	return out
}

func main() {
	configFile := flag.String("config", "", "bench config (JSON)")
	port := flag.Int("port", 0, "port on 127.0.0.1")
	flag.Parse()
	raw, err := os.ReadFile(*configFile)
	check(err)
	var cfg benchConfig
	check(json.Unmarshal(raw, &cfg))
	v := &verifier{
		issuer:  cfg.Issuer,
		keys:    map[string]benchKey{},
		pubs:    map[string]crypto.PublicKey{},
		max:     cfg.CacheSize,
		answers: map[string][]byte{},
	}
	for _, k := range cfg.Keys {
		block, _ := pem.Decode([]byte(k.Pem))
		if block == nil {
			check(fmt.Errorf("key %s: no PEM block", k.Kid))
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		check(err)
		v.keys[k.Kid] = k
		v.pubs[k.Kid] = pub
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/apis/authentication.k8s.io/v1/tokenreviews") {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		body, err := io.ReadAll(r.Body)
		var review struct {
			Spec struct {
				Token string `json:"token"`
			} `json:"spec"`
		}
		if err != nil || json.Unmarshal(body, &review) != nil || review.Spec.Token == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		a := v.answer(review.Spec.Token)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(len(a)))
		_, _ = w.Write(a)
	})
	srv := &http.Server{Addr: fmt.Sprintf("127.0.0.1:%d", *port), IdleTimeout: 30 * time.Second}
	check(srv.ListenAndServeTLS(cfg.CertFile, cfg.KeyFile))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
