{{- /*
tokenwarden beside an application, in the application's own chart (declare this library chart as a dependency):

  spec:
    template:
      spec:
        initContainers:
          {{- include "tokenwarden.sidecar.container" (dict "image" "registry.example/tokenwarden:0.1.0" "tlsSecret" "my-app-tokenwarden-tls") | nindent 10 }}
        volumes:
          {{- include "tokenwarden.sidecar.volumes" (dict "tlsSecret" "my-app-tokenwarden-tls") | nindent 10 }}

It runs `tokenwarden serve` on 127.0.0.1 (port 9443 unless "port" is given): the application sends it the
TokenReviews (and SubjectAccessReviews) of the tokens it receives, with no round trip to kube-apiserver. As a
native sidecar (an init container with restartPolicy Always, Kubernetes 1.29 and later) it starts before the
application and stops after it. Keys come from the cluster's JWKS endpoint, fetched with a projected token of the
pod's service account and the cluster CA. Parameters (a dict):
  image      the tokenwarden image, with a version tag or digest (required; `latest` is refused)
  tlsSecret  a kubernetes.io/tls Secret for localhost (required)
  port       the localhost port (9443)
  issuer     the cluster's service-account issuer (https://kubernetes.default.svc.cluster.local)
  jwksUri    its JWKS (https://kubernetes.default.svc/openid/v1/jwks)
  resources  the container's resources
*/}}
{{- define "tokenwarden.sidecar.container" -}}
{{- $image := required "tokenwarden.sidecar.container needs an image" .image }}
{{- if or (not (regexMatch ":[^/]+$|@sha256:" $image)) (hasSuffix ":latest" $image) }}
{{- fail (printf "tokenwarden.sidecar.container: image %q needs a version tag or a digest, not latest" $image) }}
{{- end }}
{{- $issuer := .issuer | default "https://kubernetes.default.svc.cluster.local" }}
{{- $jwksUri := .jwksUri | default "https://kubernetes.default.svc/openid/v1/jwks" }}
{{- $port := .port | default 9443 | int }}
- name: tokenwarden
  image: {{ $image | quote }}
  restartPolicy: Always
  args:
    - serve
    - --bind-address=127.0.0.1
    - --secure-port={{ $port }}
    - --tls-cert-file=/etc/tokenwarden/tls/tls.crt
    - --tls-private-key-file=/etc/tokenwarden/tls/tls.key
    - --service-account-issuer={{ $issuer }}
    - --service-account-jwks-uri={{ $issuer }}={{ $jwksUri }}
    - --service-account-jwks-ca-file={{ $issuer }}=/var/run/secrets/tokenwarden/ca.crt
    - --service-account-jwks-token-file={{ $issuer }}=/var/run/secrets/tokenwarden/token
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
