#!/usr/bin/env node
/** Prints the unit tests' line coverage per folder of src/, from coverage/coverage-summary.json. */
import { readFileSync } from 'node:fs'
import path from 'node:path'

const summary = JSON.parse(readFileSync('coverage/coverage-summary.json', 'utf8'))
const folders = new Map()
for (const [file, figures] of Object.entries(summary)) {
  if (file === 'total') continue
  const folder = path.relative(process.cwd(), path.dirname(file))
  const f = folders.get(folder) ?? { covered: 0, total: 0 }
  f.covered += figures.lines.covered
  f.total += figures.lines.total
  folders.set(folder, f)
}
const pct = f => (f.total === 0 ? 100 : (100 * f.covered) / f.total).toFixed(1)
console.log('unit test line coverage by folder:')
for (const [folder, f] of [...folders].sort()) {
  console.log(`  ${folder.padEnd(14)} ${pct(f).padStart(5)} %  (${f.covered} of ${f.total} lines)`)
}
console.log(`  ${'all of src'.padEnd(14)} ${summary.total.lines.pct.toFixed(1).padStart(5)} %`)
