{{/*
Name of the chart, truncated to 63 characters (the limit of label values).
*/}}
{{- define "mediana.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified name of the release's objects: the release name, followed by the chart
name unless the release name already contains it. Truncated to 63 characters, the limit of
DNS labels.
*/}}
{{- define "mediana.fullname" -}}
{{- $name := include "mediana.name" . }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
Chart name and version, as used by the helm.sh/chart label.
*/}}
{{- define "mediana.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object of the chart.
*/}}
{{- define "mediana.labels" -}}
helm.sh/chart: {{ include "mediana.chart" . }}
{{ include "mediana.selectorLabels" . }}
app.kubernetes.io/version: {{ (.Values.image.tag | default .Chart.AppVersion) | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Labels selecting the operator's pods. Immutable in a Deployment: never add labels that
change between releases.
*/}}
{{- define "mediana.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mediana.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Name of the operator's ServiceAccount.
*/}}
{{- define "mediana.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mediana.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image of the operator: repository and tag, the tag defaulting to the chart's appVersion.
*/}}
{{- define "mediana.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
