{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "consent-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: <release>-<chart> unless the release name already contains the chart name. */}}
{{- define "consent-operator.fullname" -}}
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

{{- define "consent-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "consent-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: consent-operator
{{- end }}

{{/* Selector labels never change across upgrades: Deployment selectors are immutable. */}}
{{- define "consent-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "consent-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: manager
{{- end }}

{{- define "consent-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "consent-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "consent-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "consent-operator.stateKeySecret" -}}
{{- default (printf "%s-state-key" (include "consent-operator.fullname" .)) .Values.manager.stateKeySecret }}
{{- end }}

{{/* The Lease name is fixed in internal/manager (leaderElectionID). */}}
{{- define "consent-operator.leaseName" -}}
consent-operator.banking.consent-operator.dev
{{- end }}

{{- define "consent-operator.gatewayPublicURL" -}}
{{- if .Values.gateway.publicURL }}
{{- .Values.gateway.publicURL }}
{{- else if .Values.gateway.ingress.enabled }}
{{- printf "https://%s" (required "gateway.ingress.host is required when the Ingress is enabled" .Values.gateway.ingress.host) }}
{{- else }}
{{- "http://localhost:8082" }}
{{- end }}
{{- end }}

{{- define "consent-operator.sqlitePath" -}}
/var/lib/consent-operator/consent-operator.db
{{- end }}

{{/* Fails the render on value combinations the schema cannot express clearly. */}}
{{- define "consent-operator.validate" -}}
{{- if and (eq .Values.store.type "sqlite") (gt (int .Values.replicaCount) 1) }}
{{- fail "store.type=sqlite supports one replica only (one writer on a ReadWriteOnce volume); use store.type=postgres for replicaCount > 1" }}
{{- end }}
{{- if and (eq .Values.store.type "postgres") (not .Values.store.postgres.existingSecret) }}
{{- fail "store.postgres.existingSecret is required when store.type=postgres" }}
{{- end }}
{{- if and .Values.podDisruptionBudget.enabled (lt (int .Values.replicaCount) 2) }}
{{- fail "podDisruptionBudget.enabled needs replicaCount >= 2: with one replica it would block every node drain" }}
{{- end }}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.manager.leaderElect) }}
{{- fail "manager.leaderElect must be true when replicaCount > 1: replicas would reconcile the same objects concurrently" }}
{{- end }}
{{- end }}

{{/* The manager's rules on namespaced resources, shared by the ClusterRole (scope
Cluster) and the watched namespace's Role (scope Namespaced). */}}
{{- define "consent-operator.managerResourceRules" -}}
- apiGroups: [""]
  resources: [configmaps]
  resourceNames: [consent-operator-notifications]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [secrets]
  verbs: [create, delete, get, list, patch, update, watch]
- apiGroups: [banking.consent-operator.dev]
  resources: [bankconnections, syncjobs]
  verbs: [get, list, patch, update, watch]
- apiGroups: [banking.consent-operator.dev]
  resources: [bankconnections/finalizers, syncjobs/finalizers]
  verbs: [update]
- apiGroups: [banking.consent-operator.dev]
  resources: [bankconnections/status, syncjobs/status]
  verbs: [get, patch, update]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- end }}

{{/* The gateway's pods: the same name and instance, component gateway. */}}
{{- define "consent-operator.gatewaySelectorLabels" -}}
app.kubernetes.io/name: {{ include "consent-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gateway
{{- end }}

{{- define "consent-operator.gatewayLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "consent-operator.gatewaySelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: consent-operator
{{- end }}

{{- define "consent-operator.gatewayServiceAccountName" -}}
{{- printf "%s-gateway" (include "consent-operator.fullname" .) }}
{{- end }}

{{/* The gateway's rules on namespaced resources (config/rbac/gateway/role.yaml, which
controller-gen generates from internal/gateway/rbac.go): read connections and jobs,
patch the status fields the gateway owns, record events. No Secrets. */}}
{{- define "consent-operator.gatewayResourceRules" -}}
- apiGroups: [banking.consent-operator.dev]
  resources: [bankconnections, syncjobs]
  verbs: [get, list, watch]
- apiGroups: [banking.consent-operator.dev]
  resources: [bankconnections/status, syncjobs/status]
  verbs: [patch]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- end }}
