#!/usr/bin/env bash
# Build dist/: the action's bundle (dist/index.js, main and post step) and, separately so that the
# action's bundle does not grow, the CLI's (dist/cli/index.js), started by dist/cli.js.
set -euo pipefail
cd "$(dirname "$0")/.."
npx ncc build src/main.ts -o dist --license licenses.txt
npx ncc build src/cli.ts -o dist/cli --license licenses.txt
printf '#!/usr/bin/env node\n// The CLI of ros-multiarch-action (built by scripts/build.sh; see README "Run it locally").\nimport "./cli/index.js"\n' >dist/cli.js
chmod 755 dist/cli.js
