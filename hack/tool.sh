#!/usr/bin/env bash
# Runs a command that builds a tool, with one line before it and one after, so that a long first
# build is never silent:
#
#   hack/tool.sh NAME VERSION ESTIMATE COMMAND [ARG...]
#
# prints "building NAME VERSION from source (first time only, ESTIMATE)..." and then
# "built NAME in Ns", or "building NAME failed after Ns" and the command's exit status.
# Scripts may source it and call build_tool with a shell function as the command.

build_tool() {
  local name="$1" version="$2" estimate="$3" start=$SECONDS status=0
  shift 3
  printf 'building %s %s from source (first time only, %s)...\n' "$name" "$version" "$estimate" >&2
  "$@" || status=$?
  if [ "$status" -eq 0 ]; then
    printf 'built %s in %ss\n' "$name" $((SECONDS - start)) >&2
  else
    printf 'building %s failed after %ss\n' "$name" $((SECONDS - start)) >&2
  fi
  return "$status"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  build_tool "$@"
fi
