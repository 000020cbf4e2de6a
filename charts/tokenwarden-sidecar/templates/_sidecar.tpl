{{- /*
`tokenwarden proxy` in front of an application, in the application's own pod. Declare this library chart as a
dependency of the application's chart, then in its Deployment:

  spec:
    template:
      spec:
        initContainers:
          {{- include "tokenwarden.sidecar.container" .Values.tokenwarden | nindent 10 }}
        containers:
          - name: app
            image: registry.example/app:1.4.2
            args: [--listen=127.0.0.1:8080]    # on loopback: reachable only through the proxy
        volumes:
          {{- include "tokenwarden.sidecar.volumes" .Values.tokenwarden | nindent 10 }}

  # values.yaml of the application
  tokenwarden:
    image: registry.example/tokenwarden:0.1.0
    tlsSecret: app-tokenwarden-tls    # a kubernetes.io/tls Secret for the app's Service name
    upstream: http://127.0.0.1:8080
    audiences: [app]                   # callers project tokens with this audience
    ignorePaths: [/healthz]            # the kubelet's probes pass without a token

The container listens on the pod's port 8443 (HTTPS, container port named "https": point the app's Service and
probes at it), checks the caller's service-account token (or client certificate) and passes authenticated
requests to `upstream` with X-Remote-User / X-Remote-Group / X-Remote-Extra-* headers (docs/proxy.md). Its own
/livez, /readyz and /metrics are on a second port, 8444 ("proxy-endpoints", `--proxy-endpoints-port`), so no path
of the app is shadowed; its probes use them. It runs as a native sidecar (an init container with restartPolicy
Always, Kubernetes 1.29 and later): it starts before the application, which the kubelet starts only once the
proxy's startup probe (/readyz: keys loaded) passes, and it stops after the application. Keys come from the
cluster's JWKS endpoint, fetched with the pod's projected service-account token and the cluster CA
(kube-root-ca.crt), mounted by tokenwarden.sidecar.volumes.

Parameters (a dict):
  image                 the tokenwarden image, with a version tag or digest (required; `latest` is refused)
  tlsSecret             the kubernetes.io/tls Secret the proxy serves (required; used by the volumes template)
  upstream              where authenticated requests go: http://127.0.0.1:PORT, https://... or unix:///PATH (required)
  port                  the proxy's container port (8443)
  endpointsPort         the port of its own /livez, /readyz and /metrics (8444)
  audiences             audiences a token must hold one of (`--audience`; default: the issuer, as kube-apiserver's)
  ignorePaths           paths passed without a token (`--ignore-path`: exact, or a prefix ending in *)
  allowServiceAccounts  only these NAMESPACE:NAME service accounts pass (`--allow-service-account`)
  allowNamespaces       only service accounts of these namespaces pass (`--allow-namespace`)
  allowGroups           only members of these groups pass (`--allow-group`)
  issuer                the cluster's service-account issuer (https://kubernetes.default.svc.cluster.local)
  jwksUri               its JWKS (https://kubernetes.default.svc/openid/v1/jwks)
  extraArgs             further `--flag=value` arguments of `tokenwarden proxy` (e.g. --check-endpoint)
  resources             the container's resources
*/}}
{{- define "tokenwarden.sidecar.container" -}}
{{- $image := required "tokenwarden.sidecar.container needs an image" .image }}
{{- if or (not (regexMatch ":[^/]+$|@sha256:" $image)) (hasSuffix ":latest" $image) }}
{{- fail (printf "tokenwarden.sidecar.container: image %q needs a version tag or a digest, not latest" $image) }}
{{- end }}
{{- $upstream := required "tokenwarden.sidecar.container needs an upstream (e.g. http://127.0.0.1:8080)" .upstream }}
{{- $issuer := .issuer | default "https://kubernetes.default.svc.cluster.local" }}
{{- $jwksUri := .jwksUri | default "https://kubernetes.default.svc/openid/v1/jwks" }}
{{- $port := .port | default 8443 | int }}
{{- $endpointsPort := .endpointsPort | default 8444 | int }}
- name: tokenwarden
  image: {{ $image | quote }}
  restartPolicy: Always
  args:
    - proxy
    - {{ printf "--upstream=%s" $upstream | quote }}
    - --secure-port={{ $port }}
    - --proxy-endpoints-port={{ $endpointsPort }}
    - --tls-cert-file=/etc/tokenwarden/tls/tls.crt
    - --tls-private-key-file=/etc/tokenwarden/tls/tls.key
    - {{ printf "--service-account-issuer=%s" $issuer | quote }}
    - {{ printf "--service-account-jwks-uri=%s=%s" $issuer $jwksUri | quote }}
    - {{ printf "--service-account-jwks-ca-file=%s=/var/run/secrets/tokenwarden/ca.crt" $issuer | quote }}
    - {{ printf "--service-account-jwks-token-file=%s=/var/run/secrets/tokenwarden/token" $issuer | quote }}
    {{- range .audiences }}
    - {{ printf "--audience=%s" . | quote }}
    {{- end }}
    {{- range .ignorePaths }}
    - {{ printf "--ignore-path=%s" . | quote }}
    {{- end }}
    {{- range .allowServiceAccounts }}
    - {{ printf "--allow-service-account=%s" . | quote }}
    {{- end }}
    {{- range .allowNamespaces }}
    - {{ printf "--allow-namespace=%s" . | quote }}
    {{- end }}
    {{- range .allowGroups }}
    - {{ printf "--allow-group=%s" . | quote }}
    {{- end }}
    {{- range .extraArgs }}
    - {{ . | quote }}
    {{- end }}
  ports:
    - name: https
      containerPort: {{ $port }}
      protocol: TCP
    - name: proxy-endpoints
      containerPort: {{ $endpointsPort }}
      protocol: TCP
  startupProbe:
    httpGet:
      path: /readyz
      port: proxy-endpoints
      scheme: HTTPS
    periodSeconds: 2
    timeoutSeconds: 2
    failureThreshold: 60
  livenessProbe:
    httpGet:
      path: /livez
      port: proxy-endpoints
      scheme: HTTPS
    periodSeconds: 10
    timeoutSeconds: 2
    failureThreshold: 3
  readinessProbe:
    httpGet:
      path: /readyz
      port: proxy-endpoints
      scheme: HTTPS
    periodSeconds: 5
    timeoutSeconds: 2
    failureThreshold: 2
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    runAsGroup: 65532
    readOnlyRootFilesystem: true
    allowPrivilegeEscalation: false
    privileged: false
    capabilities:
      drop: ["ALL"]
    seccompProfile:
      type: RuntimeDefault
  resources:
    {{- toYaml (.resources | default (dict "requests" (dict "cpu" "50m" "memory" "64Mi") "limits" (dict "memory" "128Mi"))) | nindent 4 }}
  volumeMounts:
    - name: tokenwarden-tmp
      mountPath: /tmp
    - name: tokenwarden-tls
      mountPath: /etc/tokenwarden/tls
      readOnly: true
    - name: tokenwarden-token
      mountPath: /var/run/secrets/tokenwarden
      readOnly: true
{{- end }}

{{- define "tokenwarden.sidecar.volumes" -}}
- name: tokenwarden-tmp
  emptyDir:
    sizeLimit: 16Mi
- name: tokenwarden-tls
  secret:
    secretName: {{ required "tokenwarden.sidecar.volumes needs tlsSecret" .tlsSecret }}
    defaultMode: 0444
- name: tokenwarden-token
  projected:
    defaultMode: 0444
    sources:
      - serviceAccountToken:
          path: token
          expirationSeconds: 3600
      - configMap:
          name: kube-root-ca.crt
          items:
            - key: ca.crt
              path: ca.crt
{{- end }}
