#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine or a developer's: installs what is missing,
# makes Redis, PostgreSQL and ClickHouse reachable on loopback (reusing running ones), runs
# every module's tests with Maven.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
cd "$root"

need=()
command -v java >/dev/null || need+=(openjdk-17-jdk-headless)
command -v javac >/dev/null || need+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || need+=(maven)
command -v curl >/dev/null || need+=(curl)
# The load tester's report test renders its HTML page in a real headless browser.
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages: ${need[*]} (run as root or install them)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

scripts/local-tiers.sh up

if [ ! -t 1 ]; then
  # Debian's Maven (with jansi 2) writes colour resets (ESC[0m) even in batch mode: into a CI log
  # or a file they are noise.
  export MAVEN_OPTS="${MAVEN_OPTS:+$MAVEN_OPTS }-Djansi.noreset=true"
  set -- -Dstyle.color=never "$@"
fi

# Reports written by this run only: a module that did not run this time must not be counted with
# an earlier run's results.
since="$(mktemp)"
trap 'rm -f "$since"' EXIT
status=0
mvn -B verify "$@" || status=$?

# Per module (any directory with surefire or failsafe reports, so a new module counts without a
# change here), also when the build failed.
{
  find . -path ./.local -prune -o \( -path '*/target/surefire-reports/TEST-*.xml' \
      -o -path '*/target/failsafe-reports/TEST-*.xml' \) -newer "$since" -print |
    LC_ALL=C sort |
    awk '
      function attr(line, name,   m) {
        if (!match(line, " " name "=\"[0-9]+\"")) { return 0 }
        m = substr(line, RSTART, RLENGTH)
        gsub(/[^0-9]/, "", m)
        return m + 0
      }
      {
        file = $0
        module = file
        sub(/^\.\//, "", module)
        sub(/(^|\/)target\/(surefire|failsafe)-reports\/[^\/]*$/, "", module)
        if (module == "") { module = "(root)" }
        while ((getline line < file) > 0) {
          if (line ~ /<testsuite[ >]/) {
            if (!(module in tests)) { order[++modules] = module }
            tests[module] += attr(line, "tests"); failures[module] += attr(line, "failures")
            errors[module] += attr(line, "errors"); skipped[module] += attr(line, "skipped")
            break
          }
        }
        close(file)
      }
      END {
        print ""
        if (modules == 0) { print "Test summary: no test reports were written by this run"; exit }
        print "Test summary (unit and integration test reports written by this run):"
        printf "  %-24s %7s %9s %7s %8s\n", "module", "tests", "failures", "errors", "skipped"
        for (i = 1; i <= modules; i++) {
          m = order[i]
          printf "  %-24s %7d %9d %7d %8d\n", m, tests[m], failures[m], errors[m], skipped[m]
          t += tests[m]; f += failures[m]; e += errors[m]; s += skipped[m]
        }
        printf "  %-24s %7d %9d %7d %8d\n", "total", t, f, e, s
        printf "tests: %d passed, %d failed, %d skipped\n", t - f - e - s, f + e, s
      }'
} || echo "test summary could not be made" >&2

exit "$status"
