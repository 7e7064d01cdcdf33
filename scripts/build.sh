#!/usr/bin/env bash
# Build dist/: the action's bundle (dist/index.js, main and post step) and, separately so that the
# action's bundle does not grow, the CLI's (dist/cli/index.js), started by dist/cli.js.
set -euo pipefail
cd "$(dirname "$0")/.."
npx ncc build src/main.ts -o dist --license licenses.txt
npx ncc build src/cli.ts -o dist/cli --license licenses.txt
# A lazily loaded chunk of the CLI that is the action's own, byte for byte (@actions/cache, 2.4 MB),
# is loaded from there: one copy in dist/. ncc's chunk is an ES module (id, ids, modules), so a
# re-export of it is the same chunk to the loader.
for chunk in dist/cli/*.index.js; do
  name=$(basename "$chunk")
  if [[ $name != index.js && -f dist/$name ]] && cmp -s "$chunk" "dist/$name"; then
    printf "// The action's chunk %s, byte for byte the one ncc wrote here (scripts/build.sh)\nexport * from '../%s'\n" "$name" "$name" >"$chunk"
  fi
done
printf '#!/usr/bin/env node\n// The CLI of ros-multiarch-action (built by scripts/build.sh; see README "Run it locally").\nimport "./cli/index.js"\n' >dist/cli.js
chmod 755 dist/cli.js
