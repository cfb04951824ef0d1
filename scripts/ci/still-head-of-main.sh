#!/usr/bin/env bash
# Used by .github/workflows/ci.yml's deploy job: writes current=true to $GITHUB_OUTPUT when the commit
# this run checked out ($GITHUB_SHA) is still the head of main on the remote, current=false (with a
# notice) when a newer push has moved it: that newer run deploys, this one does not.
set -euo pipefail
head=$(git ls-remote origin refs/heads/main | cut -f1)
if [ -z "$head" ]; then
  echo "::error::could not read the head of main from origin" >&2
  exit 1
fi
if [ "$head" = "$GITHUB_SHA" ]; then
  echo "current=true" >> "$GITHUB_OUTPUT"
else
  echo "current=false" >> "$GITHUB_OUTPUT"
  echo "::notice::${GITHUB_SHA} is no longer the head of main (${head}): not deployed; the run of ${head} deploys it"
fi
