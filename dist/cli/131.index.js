// The action's chunk 131.index.js, byte for byte the one ncc wrote here (scripts/build.sh)
export * from '../131.index.js'
