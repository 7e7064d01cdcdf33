/** Jest in ESM mode with ts-jest. Unit tests run everywhere; e2e tests need the test bed. */
const tsJest = {
  '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }]
}
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: tsJest,
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' }
}
export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/__tests__/**/*.test.ts']
    },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/__tests__/e2e/**/*.e2e.ts'] }
  ],
  // each run's temporary files in one folder, removed at its end
  globalSetup: '<rootDir>/__tests__/helpers/tmpdir-setup.mjs',
  globalTeardown: '<rootDir>/__tests__/helpers/tmpdir-teardown.mjs',
  // unit coverage (npm test): V8's own counters; a summary per folder is printed by the test command
  coverageProvider: 'v8',
  collectCoverageFrom: ['<rootDir>/src/**/*.ts'],
  coverageReporters: ['json-summary', 'text-summary'],
  coverageThreshold: {
    './src/pipeline/': { lines: 70 },
    './src/publish/': { lines: 70 }
  }
}
