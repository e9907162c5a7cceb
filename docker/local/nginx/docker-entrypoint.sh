#!/bin/sh
# The nginx image's entrypoint, the part the web app uses: every /etc/nginx/templates/*.template
# becomes /etc/nginx/conf.d/<name> with the environment's variables substituted (only those that
# are set, so nginx's own $uri and the like stay), then nginx runs.
set -eu
if [ "${1:-}" = nginx ]; then
  defined=$(env | cut -d= -f1 | sed 's/.*/${&}/' | tr '\n' ' ')
  for template in /etc/nginx/templates/*.template; do
    [ -f "$template" ] || continue
    output=/etc/nginx/conf.d/$(basename "$template" .template)
    echo "docker-entrypoint.sh: $template -> $output"
    envsubst "$defined" <"$template" >"$output"
  done
fi
exec "$@"
