#!/usr/bin/env bash
# Fuzzes glide-java's parsers for longer than the few seconds each gets in `mvn verify` (docs/reliability.md).
#   usage: scripts/fuzz.sh [SECONDS] [TARGET...]   SECONDS per target (default 600); TARGET a fuzz test class
#                                                 (default: all ten, one after the other)
#   MVN="mvn -o" scripts/fuzz.sh ...              another Maven command line (e.g. offline)
# Each target runs in its own JVM (Jazzer fuzzes one target per JVM), starting from its committed corpus in
# src/test/resources/.../<Test>Inputs/<method>/ plus what earlier runs added to <module>/.cifuzz-corpus/. A finding
# stops that target: Jazzer writes the input into the corpus directory (a crash-* file), where every later test run
# replays it; fix the parser, rename the file to regression-<what> and commit both.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${1:-600}
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
    TARGETS=(SafeTensorsFuzzTest TorchCheckpointFuzzTest PickleFuzzTest ZipDirectoryFuzzTest ImageFuzzTest
             BpeTokenizerFuzzTest ClipTokenizerFuzzTest DatasetMetadataFuzzTest GlideModelConfigFuzzTest
             JobRequestFuzzTest)
fi

# Jazzer appends these libFuzzer flags after the @FuzzTest's own, so this -max_total_time wins over maxDuration;
# the JUnit timeout of each fuzz test (sized for the CI run) is switched off
LONG=(-Djazzer.internal.arg.0=glide "-Djazzer.internal.arg.1=-max_total_time=$SECONDS_PER_TARGET"
      -Djunit.jupiter.execution.timeout.mode=disabled)

failed=()
for t in "${TARGETS[@]}"; do
    echo "== $t: ${SECONDS_PER_TARGET}s"
    if ! ${MVN:-mvn} -B -q -pl glide-core,glide-nn,glide-diffusion test-compile surefire:test@fuzz-one "-Dfuzz.test=$t" "${LONG[@]}"; then
        failed+=("$t")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "findings or failures in: ${failed[*]} (see the modules' target/surefire-reports)" >&2
    exit 1
fi
