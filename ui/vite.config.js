import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

// VITE_API empty: the UI calls /api/v1 on its own origin (the temporalite UI port). Left
// undefined, the library's getApiOrigin() throws.
process.env.VITE_API = '';

export default defineConfig({
  plugins: [sveltekit()],
  optimizeDeps: { include: ['date-fns', 'date-fns-tz'] },
  build: { chunkSizeWarningLimit: 8192, reportCompressedSize: false },
  logLevel: process.env.TEMPORALITE_UI_VERBOSE ? 'info' : 'warn',
});
