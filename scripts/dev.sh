#!/usr/bin/env bash
# Quick start: local tiers up, a development secret and token, then the gateway in the foreground.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
# Debian's Maven writes colour-reset codes even in batch mode; they only litter a terminal or log.
export MAVEN_OPTS="${MAVEN_OPTS:-} -Djansi.noreset=true -Dstyle.color=never"
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
  echo "building the gateway and the CLI ..." >&2
  mvn -B -q -DskipTests -pl server,cli -am package
fi
# The CLI that the examples below use (it rebuilds itself when its sources changed).
bin/messagestore --version >/dev/null

token="$(bin/messagestore-server token --sub dev-user --role admin --ttl 24h)"
# Kept in a file too, so a second shell can pick it up without copying a long token.
(umask 077 && printf '%s\n' "$token" > .local/dev-token)
port="${MESSAGESTORE_GRPC_PORT:-50051}"
target_flag=""
[ "$port" = "50051" ] || target_flag=" --target 127.0.0.1:${port}"
cat <<TXT

MessageStore gateway starting on 127.0.0.1:${port} (Ctrl-C stops it; tiers keep running: scripts/local-tiers.sh down)

Development token (user dev-user, admin, valid 24 h), also in .local/dev-token:
  export MESSAGESTORE_TOKEN="\$(cat .local/dev-token)"

Try it in another shell, from ${root}:
  bin/messagestore${target_flag} send demo "hello"
  bin/messagestore${target_flag} list demo
  bin/messagestore${target_flag} threads
  bin/messagestore${target_flag} watch demo     # new messages as they come (Ctrl-C to stop)
  bin/messagestore${target_flag} admin status
  bin/messagestore --help

Or with grpcurl (not packaged for Debian; a release binary from github.com/fullstorydev/grpcurl),
which uses server reflection, so no .proto is needed:
  grpcurl -plaintext -H "authorization: Bearer \$MESSAGESTORE_TOKEN" \\
    -d '{"thread_id":"demo","role":"ROLE_USER","content":"hello"}' \\
    127.0.0.1:${port} messagestore.v1.MessageStore/SendMessage

TXT
exec bin/messagestore-server "$@"
