#!/usr/bin/env bash
# Prints the lumiere-keys Secret: a fresh CURVE pair for the coordinator and one shared by the worker pods.
#
#   bash cluster/kubernetes/make-secret.sh | kubectl apply -f -
#
# Uses `lumiere-coordinator keygen` (LUMIERE_BIN, else on PATH). The secret keys exist only in a temporary
# directory (removed on exit) and in the output: pipe it straight to kubectl, do not commit it.
set -euo pipefail
bin="${LUMIERE_BIN:-$(dirname "$(command -v lumiere-coordinator || echo /nonexistent/x)")}"
[ -x "$bin/lumiere-coordinator" ] || { echo "error: no lumiere-coordinator in $bin: put it on PATH or set LUMIERE_BIN" >&2; exit 2; }
t="$(mktemp -d)"; trap 'rm -rf "$t"' EXIT
umask 077
"$bin/lumiere-coordinator" keygen --name coordinator --output-dir "$t" >/dev/null
"$bin/lumiere-coordinator" keygen --name worker --output-dir "$t" >/dev/null
cat <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: lumiere-keys
  namespace: lumiere
  labels:
    app.kubernetes.io/part-of: lumiere
type: Opaque
stringData:
  coordinator.key: "$(cat "$t/coordinator.key")"
  coordinator.pub: "$(cat "$t/coordinator.pub")"
  worker.key: "$(cat "$t/worker.key")"
  worker.pub: "$(cat "$t/worker.pub")"
YAML
