#!/bin/sh
# gridcase on a Temporal cluster: the namespace (with its retention) and the case search
# attributes. Idempotent: run it before every rollout (k8s Job, compose one-shot service).
# Needs the `temporal` CLI (image temporalio/admin-tools) and:
#   TEMPORAL_ADDRESS    frontend host:port                       (required)
#   TEMPORAL_NAMESPACE  namespace gridcase runs in               (default: default)
#   TEMPORAL_RETENTION  how long closed workflow histories stay  (default: 30d)
# The search attributes must equal workflows/search_attributes.py::ALL_KEYS (checked by
# tests/unit/test_deploy_files.py). With SQL visibility a namespace holds at most 10
# Keyword, 3 Datetime and 3 Bool custom attributes: gridcase uses 7, 1 and 1.
set -eu

: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS is required}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
RETENTION="${TEMPORAL_RETENTION:-30d}"
ATTEMPTS="${TEMPORAL_SETUP_ATTEMPTS:-60}"
export TEMPORAL_ADDRESS

retry() {
  n=1
  until "$@"; do
    if [ "$n" -ge "$ATTEMPTS" ]; then
      echo "giving up after $n attempts: $*" >&2
      return 1
    fi
    n=$((n + 1))
    sleep 5
  done
}

echo "waiting for the Temporal cluster at $TEMPORAL_ADDRESS"
retry temporal operator cluster health >/dev/null

if temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists; retention $RETENTION"
  temporal operator namespace update --namespace "$NAMESPACE" --retention "$RETENTION"
else
  echo "creating namespace $NAMESPACE with retention $RETENTION"
  temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION"
fi
# A new namespace reaches every frontend through a cache: wait until it answers.
retry temporal operator search-attribute list --namespace "$NAMESPACE" >/dev/null

search_attribute() {
  # search_attribute NAME TYPE: create unless the namespace has it already.
  if temporal operator search-attribute list --namespace "$NAMESPACE" \
      | awk '{print $1}' | grep -qx "$1"; then
    echo "search attribute $1 exists"
  else
    echo "creating search attribute $1 ($2)"
    retry temporal operator search-attribute create --namespace "$NAMESPACE" \
      --name "$1" --type "$2"
  fi
}

search_attribute CaseStatus Keyword
search_attribute CaseStage Keyword
search_attribute CaseDepartment Keyword
search_attribute CaseGrid Keyword
search_attribute CaseCategory Keyword
search_attribute CaseStageDueAt Datetime
search_attribute CaseOverdue Bool
search_attribute CaseLight Keyword
search_attribute CaseSupervision Keyword

echo "Temporal namespace $NAMESPACE is ready for gridcase"
