#!/bin/sh
# As the official image's: a Deno subcommand or flag as the first argument runs deno with it.
set -e
case "$1" in
  -* | run | eval | task | test | install | cache | check | compile | repl | fmt | lint | serve | info | doc | bench | upgrade | types | coverage | publish | add | remove | outdated | clean)
    set -- deno "$@" ;;
esac
exec "$@"
