// Lint rules: typescript-eslint type-checked rules, plus the import directions of ../shared/DESIGN.md.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Folders and the project folders they must not import (DESIGN.md, "Layers and the direction of imports"). */
const forbidden = {
  'firmware/util/**': ['**/hal/**', '**/board/**', '**/firmware/sip/**', '**/firmware/sdp/**', '**/firmware/media/**', '**/firmware/phone/**', '**/firmware/config/**', '**/firmware/main*'],
  'firmware/sip/**': ['**/hal/**', '**/board/**', '**/firmware/media/**', '**/firmware/sdp/**', '**/firmware/call/**', '**/firmware/phone/**', '**/firmware/config/**', '**/firmware/main*'],
  'firmware/sdp/**': ['**/hal/**', '**/board/**', '**/firmware/media/**', '**/firmware/call/**', '**/firmware/phone/**', '**/firmware/sip/**', '**/firmware/config/**', '**/firmware/main*'],
  'firmware/media/**': ['**/hal/**', '**/board/**', '**/firmware/sip/**', '**/firmware/sdp/**', '**/firmware/call/**', '**/firmware/phone/**', '**/firmware/config/**', '**/firmware/main*'],
  'firmware/call/**': ['**/hal/**', '**/board/**', '**/firmware/phone/**', '**/firmware/config/**', '**/firmware/main*', '**/firmware/media/native*', '**/firmware/sip/transport/**'],
  'firmware/config/**': ['**/hal/**', '**/firmware/sip/**', '**/firmware/sdp/**', '**/firmware/media/**', '**/firmware/phone/**', '**/firmware/main*'],
  'hal/**': ['**/firmware/sip/**', '**/firmware/sdp/**', '**/firmware/media/**', '**/firmware/phone/**', '**/firmware/config/**', '**/firmware/main*', '**/board/**'],
  // The phone talks to interfaces only: no concrete backend, no driver, no emulated chip.
  'firmware/phone/**': ['**/hal/emulated/**', '**/hal/gpio/**', '**/hal/i2c/**', '**/hal/display/**', '**/hal/input/**', '**/hal/output/**', '**/firmware/media/native*', '**/firmware/main*', '**/firmware/sip/transport/**'],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'build/**', 'eslint.config.js', 'test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['scripts/*.mjs', 'scripts/*/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-extraneous-class': 'off',
      // Strings are split into code points on purpose (LCD cells), and `() => void x()` is idiomatic.
      '@typescript-eslint/no-misused-spread': 'off',
      '@typescript-eslint/no-confusing-void-expression': 'off',
      '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: true }],
    },
  },
  ...Object.entries(forbidden).map(([folder, group]) => ({
    files: [`${folder}/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group, message: 'This import goes against the layer rules of DESIGN.md.' }] }] },
  })),
  {
    files: ['scripts/**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    // The emulator's page: browser JavaScript served as it is, outside the TypeScript program.
    files: ['firmware/emulator/web/**/*.js'],
    ignores: ['firmware/emulator/web/audio-worklet.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'module',
      globals: {
        window: 'readonly', document: 'readonly', location: 'readonly', navigator: 'readonly', WebSocket: 'readonly', CSS: 'readonly', URLSearchParams: 'readonly',
        setTimeout: 'readonly', clearTimeout: 'readonly', atob: 'readonly', fetch: 'readonly', AudioContext: 'readonly', AudioWorkletNode: 'readonly',
      },
    },
  },
  {
    // Its audio worklet runs in the AudioWorkletGlobalScope: no window, its own globals.
    files: ['firmware/emulator/web/audio-worklet.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'module',
      globals: { AudioWorkletProcessor: 'readonly', registerProcessor: 'readonly', sampleRate: 'readonly', currentTime: 'readonly' },
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
