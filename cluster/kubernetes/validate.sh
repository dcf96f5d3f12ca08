#!/usr/bin/env bash
# Validates the manifests: yamllint (syntax, style) and kubernetes-validate --strict (the Kubernetes OpenAPI
# JSON schemas shipped inside the package, no cluster needed; unknown fields are errors), including a Secret
# made by make-secret.sh. Needs: pip install kubernetes-validate yamllint (or Debian's yamllint).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="${K8S_VERSION:-1.30.0}"
for tool in yamllint kubernetes-validate; do
    command -v "$tool" >/dev/null || { echo "FAIL: needs $tool (pip install kubernetes-validate yamllint)"; exit 1; }
done
t="$(mktemp -d)"; trap 'rm -rf "$t"' EXIT
manifests=()
for f in "$here"/*.yaml; do [ "$(basename "$f")" = kustomization.yaml ] || manifests+=("$f"); done
bash "$here/make-secret.sh" >"$t/secret.yaml"
config='{extends: default, rules: {line-length: {max: 130}, document-start: disable, comments: {min-spaces-from-content: 1}}}'
yamllint -s -d "$config" "$here"/*.yaml "$t/secret.yaml"
echo "PASS: yamllint $(ls "$here"/*.yaml | wc -l) files + generated secret"
kubernetes-validate --strict -k "$version" "${manifests[@]}" "$t/secret.yaml"
echo "PASS: kubernetes-validate --strict -k $version: ${#manifests[@]} manifests + generated secret"
# kustomization.yaml lists every manifest (so `kubectl apply -k` deploys all of them).
for f in "${manifests[@]}"; do
    grep -qx "  - $(basename "$f")" "$here/kustomization.yaml" || { echo "FAIL: $(basename "$f") missing from kustomization.yaml"; exit 1; }
done
echo "PASS: kustomization.yaml lists all ${#manifests[@]} manifests"
