import defaultTheme from 'tailwindcss/defaultTheme';

// The library's theme plugin is imported by file path: its package exports map has no
// `require` condition for it.
import temporal, { textStyles } from './node_modules/@temporalio/ui/dist/theme/plugin.js';

/** @type {import('tailwindcss').Config} */
export default {
  content: ['./src/**/*.{html,js,svelte,ts}', './node_modules/@temporalio/ui/dist/**/*.{html,js,svelte,ts}'],
  darkMode: ['selector', '[data-theme="dark"]'],
  theme: {
    fontFamily: {
      sans: ['Inter', ...defaultTheme.fontFamily.sans],
      mono: ['Noto Sans Mono', ...defaultTheme.fontFamily.mono],
    },
    extend: { animation: { 'spin-slow': 'spin 3s linear infinite' }, zIndex: { 100: '100' } },
  },
  plugins: [temporal, textStyles],
};
