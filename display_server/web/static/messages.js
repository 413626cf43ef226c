// Catalogue messages in the browser, for every page and the kiosk (which inlines this file).
// The server exports a message as its text, or, when it shows a count, as its plural forms
// keyed by CLDR plural category, e.g. {"one": "{n} person", "other": "{n} people"} (Japanese
// has only "other"). `format` picks the form for the count with Intl.PluralRules of the page's
// language (the same rule as the catalogue's Plural-Forms header; the server checks that) and
// fills in the {placeholders}. This is the only plural rule in the browser. `waitText` words an
// estimated wait for every page.
"use strict";
(function () {
  const rules = new Map();

  function pluralRules(lang) {
    if (!rules.has(lang)) rules.set(lang, new Intl.PluralRules(lang));
    return rules.get(lang);
  }

  // `params.n` is the count unless `options.count` gives another; `options.lang` defaults to
  // the page's <html lang>. A placeholder whose parameter is null shows nothing; one without
  // a parameter is left as it is.
  function format(message, params = {}, options = {}) {
    let template = message;
    if (message !== null && typeof message === "object") {
      const count = Number(options.count ?? params.n);
      const lang = options.lang || document.documentElement.lang || "ja";
      template = message[pluralRules(lang).select(count)] ?? message.other;
      params = { n: count, ...params };
    }
    return String(template).replace(/\{(\w+)\}/g,
      (whole, key) => (key in params ? String(params[key] ?? "") : whole));
  }

  // An estimated wait of `lo`–`hi` minutes in words, the rule of the server's `wait_estimate`
  // (web/pages.py): `texts` are the page's {closed, none, range} messages (`wait_messages`);
  // no estimate (lo null: no counter open) is `closed`, an upper bound of 0 is `none` ("No
  // wait"), anything else the `range` with {lo} and {hi}.
  function waitText(texts, lo, hi, options = {}) {
    if (lo === null || lo === undefined) return format(texts.closed, {}, options);
    if (hi === 0) return format(texts.none, {}, options);
    return format(texts.range, { lo, hi }, options);
  }

  window.MadoguchiMessages = { format, waitText };
})();
