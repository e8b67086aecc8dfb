{{/*
The chart's name, or nameOverride.
*/}}
{{- define "license-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object's name: fullnameOverride, else the release name, followed by the
chart's name unless the release name contains it. The release license-operator gives the names
`make deploy` gives: license-operator-controller-manager, ... At most 40 characters, so that the
webhook Service's name, <fullname>-webhook-service, fits in 63 (the metrics Service's,
<fullname>-controller-manager-metrics-service, is cut to 63).
*/}}
{{- define "license-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "license-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object.
*/}}
{{- define "license-operator.labels" -}}
helm.sh/chart: {{ include "license-operator.chart" . }}
app.kubernetes.io/name: {{ include "license-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Labels that select the manager's pods.
*/}}
{{- define "license-operator.selectorLabels" -}}
control-plane: controller-manager
app.kubernetes.io/name: {{ include "license-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "license-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (printf "%s-controller-manager" (include "license-operator.fullname" .)) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "license-operator.leaderElectionNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.namespace }}
{{- end }}

{{/*
The webhook server: its Service, its cert-manager Certificate and the Secret it serves.
*/}}
{{- define "license-operator.webhookServiceName" -}}
{{- include "license-operator.fullname" . }}-webhook-service
{{- end }}

{{- define "license-operator.webhookCertificateName" -}}
{{- include "license-operator.fullname" . }}-serving-cert
{{- end }}

{{- define "license-operator.webhookSecretName" -}}
{{- default (printf "%s-webhook-server-cert" (include "license-operator.fullname" .)) .Values.webhooks.certSecretName }}
{{- end }}

{{- define "license-operator.issuerName" -}}
{{- include "license-operator.fullname" . }}-selfsigned-issuer
{{- end }}

{{/*
The metrics server: its Service, and the Secret it serves when it has one ("" when the manager
makes a self-signed certificate itself).
*/}}
{{- define "license-operator.metricsServiceName" -}}
{{- printf "%s-controller-manager-metrics-service" (include "license-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "license-operator.metricsCertificateName" -}}
{{- include "license-operator.fullname" . }}-metrics-cert
{{- end }}

{{/*
Whether cert-manager issues the metrics server's certificate ("true" or "").
*/}}
{{- define "license-operator.metricsCertFromCertManager" -}}
{{- if and .Values.metrics.enabled .Values.metrics.secure .Values.certManager.enabled (not .Values.metrics.certSecretName) }}true{{ end }}
{{- end }}

{{- define "license-operator.metricsSecretName" -}}
{{- if and .Values.metrics.enabled .Values.metrics.secure }}
{{- if .Values.metrics.certSecretName }}
{{- .Values.metrics.certSecretName }}
{{- else if .Values.certManager.enabled }}
{{- include "license-operator.fullname" . }}-metrics-server-cert
{{- end }}
{{- end }}
{{- end }}

{{/*
Where the manager reads the certificates it serves.
*/}}
{{- define "license-operator.webhookCertPath" -}}
/tmp/k8s-webhook-server/serving-certs
{{- end }}

{{- define "license-operator.metricsCertPath" -}}
/tmp/k8s-metrics-server/metrics-certs
{{- end }}
