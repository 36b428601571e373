#!/bin/sh
# The official build turns protected mode off by default (the container network is the fence);
# given first, flags from compose still override it.
set -e
if [ "$1" = redis-server ]; then
  shift
  set -- redis-server --protected-mode no "$@"
fi
exec "$@"
