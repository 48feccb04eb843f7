// Root of the shell: a client-only single-page app (the server only has static files), with the
// library's translations set up before any page renders.
import i18next from 'i18next';
import LanguageDetector from 'i18next-browser-languagedetector';

import { i18nNamespaces } from '$lib/i18n';
import resources from '$lib/i18n/locales';

export const ssr = false;
export const prerender = false;

export const load = async () => {
  if (!i18next.isInitialized) {
    await i18next.use(LanguageDetector).init({
      fallbackLng: 'en',
      load: 'languageOnly',
      ns: i18nNamespaces,
      defaultNS: 'common',
      detection: {
        order: ['querystring', 'localStorage', 'navigator'],
        caches: ['localStorage'],
        lookupQuerystring: 'lng',
        lookupLocalStorage: 'locale',
      },
      resources,
    });
  }
};
