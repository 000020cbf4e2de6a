{{- define "tokenwarden.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tokenwarden.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tokenwarden.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tokenwarden.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tokenwarden.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "tokenwarden.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: webhook
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "tokenwarden.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tokenwarden.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tokenwarden.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{- define "tokenwarden.tlsSecretName" -}}
{{- if eq .Values.tls.mode "secret" }}
{{- required "tls.secretName is required when tls.mode is secret" .Values.tls.secretName }}
{{- else }}
{{- default (printf "%s-tls" (include "tokenwarden.fullname" .)) .Values.tls.secretName }}
{{- end }}
{{- end }}

{{- /* The names kube-apiserver and in-cluster callers may use for the Service; all are in the certificate. */}}
{{- define "tokenwarden.dnsNames" -}}
{{- $svc := include "tokenwarden.fullname" . }}
{{- $names := list $svc (printf "%s.%s" $svc .Release.Namespace) (printf "%s.%s.svc" $svc .Release.Namespace) (printf "%s.%s.svc.cluster.local" $svc .Release.Namespace) }}
{{- toJson (concat $names .Values.tls.extraDnsNames) }}
{{- end }}

{{- define "tokenwarden.ipAddresses" -}}
{{- $ips := .Values.tls.extraIpAddresses }}
{{- if .Values.service.clusterIP }}
{{- $ips = prepend $ips .Values.service.clusterIP }}
{{- end }}
{{- toJson $ips }}
{{- end }}

{{- /*
The generated CA and serving certificate, made once per render and shared by the Secret and NOTES.txt (both print
the same CA). On upgrade the Secret already in the cluster is kept, so the CA bundle in kube-apiserver's webhook
kubeconfig stays valid.
*/}}
{{- define "tokenwarden.generatedTls" -}}
{{- if not (hasKey .Values "__tokenwardenGeneratedTls") }}
{{- $secret := lookup "v1" "Secret" .Release.Namespace (include "tokenwarden.tlsSecretName" .) }}
{{- $tls := dict }}
{{- if and $secret $secret.data (hasKey $secret.data "tls.crt") (hasKey $secret.data "ca.crt") }}
{{- $tls = dict "ca" (index $secret.data "ca.crt" | b64dec) "cert" (index $secret.data "tls.crt" | b64dec) "key" (index $secret.data "tls.key" | b64dec) }}
{{- else }}
{{- $days := int .Values.tls.generatedValidityDays }}
{{- $ca := genCA (printf "%s-ca" (include "tokenwarden.fullname" .)) $days }}
{{- $leaf := genSignedCert (include "tokenwarden.fullname" .) (fromJsonArray (include "tokenwarden.ipAddresses" .)) (fromJsonArray (include "tokenwarden.dnsNames" .)) $days $ca }}
{{- $tls = dict "ca" $ca.Cert "cert" $leaf.Cert "key" $leaf.Key }}
{{- end }}
{{- $_ := set .Values "__tokenwardenGeneratedTls" $tls }}
{{- end }}
{{- toJson (get .Values "__tokenwardenGeneratedTls") }}
{{- end }}

{{- /* The RBAC object that lets the configured callers use the review endpoints under --authorize-callers. */}}
{{- define "tokenwarden.callerPolicy" -}}
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: tokenwarden:reviewer
rules:
  - apiGroups: ["authentication.k8s.io"]
    resources: ["tokenreviews"]
    verbs: ["create"]
  - apiGroups: ["authorization.k8s.io"]
    resources: ["subjectaccessreviews"]
    verbs: ["create"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: tokenwarden:reviewer
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: tokenwarden:reviewer
subjects:
{{- range .Values.authorizeCallers.users }}
  - apiGroup: rbac.authorization.k8s.io
    kind: User
    name: {{ . | quote }}
{{- end }}
{{- range .Values.authorizeCallers.groups }}
  - apiGroup: rbac.authorization.k8s.io
    kind: Group
    name: {{ . | quote }}
{{- end }}
{{- range .Values.authorizeCallers.serviceAccounts }}
  - kind: ServiceAccount
    namespace: {{ .namespace | quote }}
    name: {{ .name | quote }}
{{- end }}
{{- with .Values.metrics.scrapers }}
{{- if or .users .groups .serviceAccounts }}
---
# Scrapers of /metrics: `get` on that non-resource URL, as kube components ask of theirs.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: tokenwarden:metrics-reader
rules:
  - nonResourceURLs: ["/metrics"]
    verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: tokenwarden:metrics-reader
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: tokenwarden:metrics-reader
subjects:
{{- range .users }}
  - apiGroup: rbac.authorization.k8s.io
    kind: User
    name: {{ . | quote }}
{{- end }}
{{- range .groups }}
  - apiGroup: rbac.authorization.k8s.io
    kind: Group
    name: {{ . | quote }}
{{- end }}
{{- range .serviceAccounts }}
  - kind: ServiceAccount
    namespace: {{ .namespace | quote }}
    name: {{ .name | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tokenwarden.policyConfigMapName" -}}
{{- printf "%s-policy" (include "tokenwarden.fullname" .) }}
{{- end }}

{{- define "tokenwarden.hasChartPolicy" -}}
{{- if or .Values.authorizeCallers.enabled .Values.authorization.policies }}true{{- end }}
{{- end }}

{{- define "tokenwarden.authenticationConfigMapName" -}}
{{- default (printf "%s-authentication" (include "tokenwarden.fullname" .)) .Values.authenticationConfigMap }}
{{- end }}

{{- define "tokenwarden.hasAuthenticationConfig" -}}
{{- if or .Values.authenticationConfig .Values.authenticationConfigMap }}true{{- end }}
{{- end }}

{{- /* Where the pod's own token and the cluster CA are mounted: the standard in-cluster layout. */}}
{{- define "tokenwarden.saDir" -}}/var/run/secrets/kubernetes.io/serviceaccount{{- end }}

{{- /* The container's arguments: only flags of `tokenwarden serve` (the chart tests check every one). */}}
{{- define "tokenwarden.args" -}}
{{- $v := .Values }}
{{- $sa := include "tokenwarden.saDir" . }}
{{- $args := list "serve" (printf "--secure-port=%d" (int $v.containerPort)) }}
{{- with $v.bindAddress }}
{{- $args = append $args (printf "--bind-address=%s" .) }}
{{- end }}
{{- $args = append $args "--tls-cert-file=/etc/tokenwarden/tls/tls.crt" }}
{{- $args = append $args "--tls-private-key-file=/etc/tokenwarden/tls/tls.key" }}
{{- $args = append $args (printf "--tls-min-version=%s" $v.tls.minVersion) }}
{{- with $v.tls.cipherSuites }}
{{- $args = append $args (printf "--tls-cipher-suites=%s" (join "," .)) }}
{{- end }}
{{- range $v.serviceAccountTokens.issuers }}
{{- $args = append $args (printf "--service-account-issuer=%s" .) }}
{{- end }}
{{- if and $v.serviceAccountTokens.clusterKeys.enabled $v.serviceAccountTokens.issuers }}
{{- $issuer := first $v.serviceAccountTokens.issuers }}
{{- $args = append $args (printf "--service-account-jwks-uri=%s=%s" $issuer $v.serviceAccountTokens.clusterKeys.jwksUri) }}
{{- $args = append $args (printf "--service-account-jwks-ca-file=%s=%s/ca.crt" $issuer $sa) }}
{{- $args = append $args (printf "--service-account-jwks-token-file=%s=%s/token" $issuer $sa) }}
{{- end }}
{{- range $v.serviceAccountTokens.jwksUris }}
{{- $args = append $args (printf "--service-account-jwks-uri=%s" .) }}
{{- end }}
{{- if $v.serviceAccountTokens.discovery }}
{{- $args = append $args "--service-account-issuer-discovery" }}
{{- end }}
{{- range $v.serviceAccountTokens.keyFiles }}
{{- $args = append $args (printf "--service-account-key-file=/etc/tokenwarden/keys/%s/%s" .name .key) }}
{{- end }}
{{- with $v.serviceAccountTokens.apiAudiences }}
{{- $args = append $args (printf "--api-audiences=%s" (join "," .)) }}
{{- end }}
{{- $args = append $args (printf "--service-account-legacy-tokens=%s" $v.serviceAccountTokens.legacyTokens) }}
{{- if include "tokenwarden.hasAuthenticationConfig" . }}
{{- $args = append $args "--authentication-config=/etc/tokenwarden/authentication/authentication-config.yaml" }}
{{- end }}
{{- if $v.tokenAuthSecret }}
{{- $args = append $args "--token-auth-file=/etc/tokenwarden/token-auth/tokens.csv" }}
{{- end }}
{{- if $v.authorizeCallers.enabled }}
{{- if and $v.authorizeCallers.serviceAccounts (not $v.serviceAccountTokens.issuers) (not $v.live.enabled) }}
{{- fail "authorizeCallers.serviceAccounts call with service-account tokens: serviceAccountTokens.issuers needs their issuer" }}
{{- end }}
{{- $args = append $args "--authorize-callers" }}
{{- $args = append $args (printf "--client-ca-file=/etc/tokenwarden/client-ca/%s" $v.authorizeCallers.clientCA.key) }}
{{- $args = append $args "--rbac-policy-file=/etc/tokenwarden/policy/callers.yaml" }}
{{- end }}
{{- if $v.authorization.policies }}
{{- $args = append $args "--rbac-policy-file=/etc/tokenwarden/policy/policy.yaml" }}
{{- end }}
{{- range $v.authorization.policyConfigMaps }}
{{- $args = append $args (printf "--rbac-policy-file=/etc/tokenwarden/policies/%s/%s" .name .key) }}
{{- end }}
{{- if $v.live.enabled }}
{{- $args = append $args "--in-cluster-config" }}
{{- $args = append $args (printf "--live-staleness-bound=%s" $v.live.stalenessBound) }}
{{- if $v.live.delegateUnknownTokens }}
{{- $args = append $args "--delegate-unknown-tokens" }}
{{- end }}
{{- if $v.live.delegateAuthorization }}
{{- $args = append $args "--delegate-authorization" }}
{{- end }}
{{- else if or $v.live.delegateUnknownTokens $v.live.delegateAuthorization }}
{{- fail "live.delegateUnknownTokens and live.delegateAuthorization ask the cluster: set live.enabled" }}
{{- end }}
{{- if eq (toString $v.workers) "auto" }}
{{- if not (and $v.resources.limits $v.resources.limits.cpu) }}
{{- fail "workers: auto counts the container's CPU limit: set resources.limits.cpu" }}
{{- end }}
{{- $args = append $args "--workers=auto" }}
{{- else }}
{{- $args = append $args (printf "--workers=%d" (int $v.workers)) }}
{{- end }}
{{- $args = append $args (printf "--cache-ttl=%s" $v.cache.ttl) }}
{{- $args = append $args (printf "--cache-size=%d" (int $v.cache.size)) }}
{{- $args = append $args (printf "--negative-cache-ttl=%s" $v.cache.negativeTtl) }}
{{- $args = append $args (printf "--max-request-bytes=%d" (int $v.maxRequestBytes)) }}
{{- $args = append $args (printf "--shutdown-delay-duration=%ds" (int $v.shutdown.delaySeconds)) }}
{{- $args = append $args (printf "--shutdown-timeout=%ds" (int $v.shutdown.timeoutSeconds)) }}
{{- $args = append $args (printf "--log-level=%s" $v.logLevel) }}
{{- if $v.metrics.gcDuration }}
{{- $args = append $args "--gc-duration-metric" }}
{{- end }}
{{- $overridden := dict }}
{{- range $v.extraArgs }}
{{- $_ := set $overridden (regexReplaceAll "=.*$" . "") true }}
{{- end }}
{{- $kept := list }}
{{- range $args }}
{{- if not (hasKey $overridden (regexReplaceAll "=.*$" . "")) }}
{{- $kept = append $kept . }}
{{- end }}
{{- end }}
{{- toJson (concat $kept $v.extraArgs) }}
{{- end }}
