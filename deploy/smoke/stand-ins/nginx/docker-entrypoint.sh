#!/bin/sh
# As the official image's 20-envsubst-on-templates.sh: /etc/nginx/templates/X.template becomes
# /etc/nginx/conf.d/X with only the variables that are set substituted (nginx's own $host,
# $upstream, ... stay as they are).
set -eu
if [ "${1:-}" = nginx ]; then
  defined="$(env | cut -d= -f1 | sed 's/^/${/; s/$/}/' | tr '\n' ' ')"
  for template in /etc/nginx/templates/*.template; do
    [ -f "$template" ] || continue
    out="/etc/nginx/conf.d/$(basename "$template" .template)"
    envsubst "$defined" < "$template" > "$out"
    echo "$0: rendered $template to $out"
  done
fi
exec "$@"
