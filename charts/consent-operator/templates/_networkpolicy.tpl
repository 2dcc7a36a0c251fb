{{/* Egress every component needs: the Kubernetes API and the cluster DNS. */}}
{{- define "consent-operator.networkPolicy.clusterEgress" -}}
{{- $e := .Values.networkPolicy.egress -}}
- ports:
    {{- range $e.apiServer.ports }}
    - port: {{ . }}
      protocol: TCP
    {{- end }}
  {{- with $e.apiServer.cidrs }}
  to:
    {{- range . }}
    - ipBlock:
        cidr: {{ . | quote }}
    {{- end }}
  {{- end }}
- ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
  {{- with $e.dns.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/* The peers allowed to scrape metrics; never empty, since an empty from admits everyone. */}}
{{- define "consent-operator.networkPolicy.monitoringPeers" -}}
{{- $m := .Values.networkPolicy.metrics -}}
{{- if not (or $m.namespaceSelector $m.podSelector $m.from) }}
{{- fail "networkPolicy.metrics needs a namespaceSelector, a podSelector or from peers: an empty rule would let every pod scrape" }}
{{- end }}
{{- if or $m.namespaceSelector $m.podSelector }}
- {{- with $m.namespaceSelector }}
  namespaceSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $m.podSelector }}
  podSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- with $m.from }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The peers allowed to call the data API; never empty, since an empty from admits everyone. */}}
{{- define "consent-operator.networkPolicy.dataAPIPeers" -}}
{{- with .Values.networkPolicy.dataAPI.from }}
{{- toYaml . }}
{{- else }}
{{- fail "networkPolicy.dataAPI.from needs peers: an empty rule would let every pod call the data API" }}
{{- end }}
{{- end }}
