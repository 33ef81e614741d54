#!/usr/bin/env bash
# Quick start: local tiers up, a development secret and token, then the gateway in the foreground.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
cd "$root"

scripts/local-tiers.sh up
eval "$(scripts/local-tiers.sh env)"

# A stable per-checkout secret, so tokens printed earlier keep working across restarts.
mkdir -p .local
if [ -z "${MESSAGESTORE_JWT_SECRET:-}" ]; then
  [ -f .local/dev-jwt-secret ] || head -c 48 /dev/urandom | base64 | tr -d '\n' > .local/dev-jwt-secret
  MESSAGESTORE_JWT_SECRET="$(cat .local/dev-jwt-secret)"
fi
export MESSAGESTORE_JWT_SECRET

if [ ! -f server/target/messagestore-server.jar ] || [ -n "$(find proto server -newer server/target/messagestore-server.jar -name '*.java' -o -newer server/target/messagestore-server.jar -name '*.proto' | head -1)" ]; then
  echo "building the gateway ..." >&2
  mvn -B -q -DskipTests -pl server -am package
fi

token="$(bin/messagestore-server token --sub dev-user --role admin --ttl 24h)"
port="${MESSAGESTORE_GRPC_PORT:-50051}"
cat <<TXT

MessageStore gateway starting on 127.0.0.1:${port} (Ctrl-C stops it; tiers keep running: scripts/local-tiers.sh down)

Development token (user dev-user, admin, valid 24 h):
  export TOKEN=${token}

Try it (grpcurl uses server reflection, no .proto needed):
  grpcurl -plaintext -H "authorization: Bearer \$TOKEN" \\
    -d '{"thread_id":"demo","role":"ROLE_USER","content":"hello"}' \\
    127.0.0.1:${port} messagestore.v1.MessageStore/SendMessage
  grpcurl -plaintext -H "authorization: Bearer \$TOKEN" -d '{"thread_id":"demo"}' \\
    127.0.0.1:${port} messagestore.v1.MessageStore/ListMessages
  grpcurl -plaintext 127.0.0.1:${port} grpc.health.v1.Health/Check

TXT
exec bin/messagestore-server "$@"
