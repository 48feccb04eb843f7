// SvelteKit configuration of Temporalite's UI shell. The pages and components come from the
// pinned @temporalio/ui package; its modules import each other as `$lib/...`, so `$lib` is the
// package's dist folder. The output is a static single-page app (adapter-static, index.html as
// the fallback for every route) that the temporalite binary embeds and serves.
import adapter from '@sveltejs/adapter-static';
import preprocess from 'svelte-preprocess';
import tailwindNesting from 'tailwindcss/nesting/index.js';
import tailwind from 'tailwindcss';
import autoprefixer from 'autoprefixer';

const outDir = process.env.TEMPORALITE_UI_OUT || 'build';

/** @type {import('@sveltejs/kit').Config} */
export default {
  // The library's components style themselves with Tailwind `@apply` in <style> blocks. The
  // PostCSS plugins are given here (not through a config-file loader, which is not installed).
  preprocess: [preprocess({ postcss: { plugins: [tailwindNesting, tailwind, autoprefixer] } })],
  kit: {
    files: { lib: 'node_modules/@temporalio/ui/dist' },
    alias: { $types: 'node_modules/@temporalio/ui/dist/types' },
    adapter: adapter({ pages: outDir, assets: outDir, fallback: 'index.html', strict: false }),
    prerender: { entries: [] },
    // The server serves index.html byte for byte; the hash of its inline boot script in this
    // policy keeps it valid.
    csp: { mode: 'auto', directives: { 'script-src': ['strict-dynamic'] } },
  },
};
