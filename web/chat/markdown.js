// @ts-check
// Agents write Markdown: it is rendered with marked, then sanitized with DOMPurify before it touches the DOM, at
// every streamed delta as well as for the finished answer. Raw HTML in an answer is shown as text (an answer
// quoting `<img onerror=…>` shows those characters), links open in a new tab without handing it this page
// (rel=noopener noreferrer), and only http(s), mailto and in-page links survive. Code blocks are highlighted by
// highlight.js (whose output is escaped text in spans) and get a Copy button.
import DOMPurify from "dompurify";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import go from "highlight.js/lib/languages/go";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import markdown from "highlight.js/lib/languages/markdown";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import shell from "highlight.js/lib/languages/shell";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import { Marked } from "marked";
import { copyText } from "./clipboard.js";

const languages = { bash, c, cpp, css, diff, go, java, javascript, json, markdown, python, rust, shell, sql };
for (const [name, lang] of Object.entries({ ...languages, typescript, xml, yaml }))
  hljs.registerLanguage(name, lang);

/** @param {string} s */
const escapeHtml = (s) => s.replace(/[&<>"']/g, (ch) => `&#${/** @type {string} */ (ch).charCodeAt(0)};`);

const marked = new Marked({
  gfm: true,
  breaks: true,
  renderer: {
    // Markup the agent wrote is text to read, not HTML to run.
    html: ({ text }) => escapeHtml(text),
    // A picture from elsewhere would be fetched from a third party (and the page's CSP refuses it): a link.
    image: ({ href, text }) => `<a href="${escapeHtml(href)}">${escapeHtml(text || href)}</a>`,
  },
});

const SAFE_URL = /^(?:https?:|mailto:|#)/i;
DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName !== "A") return;
  const href = node.getAttribute("href") ?? "";
  if (!SAFE_URL.test(href.trim())) node.removeAttribute("href");
  node.setAttribute("target", "_blank");
  node.setAttribute("rel", "noopener noreferrer");
});
const PURIFY = {
  FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "img", "svg", "math", "iframe"],
  FORBID_ATTR: ["style", "id", "name"],
};

/**
 * Renders an answer's Markdown into `el`, replacing what was there.
 * @param {HTMLElement} el
 * @param {string} text
 */
export function renderMarkdown(el, text) {
  const html = /** @type {string} */ (marked.parse(text, { async: false }));
  el.innerHTML = DOMPurify.sanitize(html, PURIFY);
  // The line breaks marked puts between blocks are not part of the answer's text.
  for (const node of [...el.childNodes])
    if (node.nodeType === Node.TEXT_NODE && !node.textContent?.trim()) node.remove();
  for (const code of el.querySelectorAll("pre > code")) {
    const lang = /\blanguage-([\w+-]+)/.exec(code.className)?.[1];
    if (lang) /** @type {HTMLElement} */ (code).dataset.lang = lang;
    if (lang && hljs.getLanguage(lang)) {
      code.innerHTML = hljs.highlight(code.textContent ?? "", { language: lang, ignoreIllegals: true }).value;
      code.classList.add("hljs");
    }
    const pre = /** @type {HTMLElement} */ (code.parentElement);
    pre.before(codeBar(lang, () => code.textContent ?? ""));
  }
  // Wide tables scroll inside the bubble instead of widening the page.
  for (const table of el.querySelectorAll("table")) {
    const wrap = document.createElement("div");
    wrap.className = "table-wrap";
    table.replaceWith(wrap);
    wrap.append(table);
  }
}

/** The strip above a code block: its language and a Copy button. @param {string | undefined} lang @param {() => string} code */
function codeBar(lang, code) {
  const bar = document.createElement("div");
  bar.className = "code-bar";
  const name = document.createElement("span");
  name.textContent = lang ?? "";
  const copy = document.createElement("button");
  copy.type = "button";
  copy.className = "copy-code";
  copy.textContent = "Copy";
  copy.setAttribute("aria-label", `Copy code${lang ? ` (${lang})` : ""}`);
  copy.onclick = () => copyText(code(), copy);
  bar.append(name, copy);
  return bar;
}
