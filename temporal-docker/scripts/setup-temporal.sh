#!/bin/sh
# One-shot (temporal-setup service, admin-tools image): waits for the Temporal frontend, creates
# the namespace with its retention (how long a finished dossier's history stays readable), and
# registers the dossier workflow's search attributes. Idempotent: an existing namespace is kept,
# an attribute that exists with the same type is left alone.
#
# The names and types must match workflows/search-attributes.ts (test/integration/compose.test.ts checks).
set -eu

TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
RETENTION="${TEMPORAL_RETENTION:-30d}"
export TEMPORAL_ADDRESS

attempt=1
until temporal operator cluster health >/dev/null 2>&1; do
  if [ "$attempt" -ge 60 ]; then
    echo "Temporal at $TEMPORAL_ADDRESS is not healthy after $attempt attempts" >&2
    exit 1
  fi
  echo "Waiting for Temporal at $TEMPORAL_ADDRESS ($attempt)"
  attempt=$((attempt + 1))
  sleep 2
done

if temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "Namespace $NAMESPACE exists"
else
  temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" \
    --description "normx-notify: one workflow per dossier, reminders and notifications"
  echo "Namespace $NAMESPACE created (retention $RETENTION)"
fi

# A new namespace takes a few seconds to be known by every frontend: retry.
attempt=1
until temporal operator search-attribute create --namespace "$NAMESPACE" \
  --name DossierId --type Keyword \
  --name OwnerId --type Keyword \
  --name DossierStatus --type Keyword \
  --name DueDate --type Datetime \
  --name NextReminderAt --type Datetime; do
  if [ "$attempt" -ge 30 ]; then
    echo "Could not register the search attributes in $NAMESPACE" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 2
done
temporal operator search-attribute list --namespace "$NAMESPACE"
echo "Search attributes registered in $NAMESPACE"
