// The tariff console's rule editor: CodeMirror 6 with the server's checker as its linter.
// Built into ../static/editor.js by `npm ci && npm run build` (see docs/console.md).
import { EditorState } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  drawSelection,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { StreamLanguage, syntaxHighlighting, defaultHighlightStyle, bracketMatching } from "@codemirror/language";
import { linter, lintGutter, forceLinting } from "@codemirror/lint";
import { searchKeymap, highlightSelectionMatches } from "@codemirror/search";

const KEYWORDS = new Set([
  "offer", "plan", "example", "given", "expect", "eligible", "not", "when", "otherwise",
  "allow", "deny", "first", "all", "price", "usage", "rate", "allowance", "cap", "tax",
  "currency", "rounding", "waive", "discount", "recurring", "one_time", "per", "zones",
  "bands", "increments", "then", "and", "or", "in", "composition", "option", "because",
  "tiers", "split", "at", "on", "included", "excluded", "import",
]);

// A small tokenizer for colours only: the checker on the server is the grammar's truth.
const tariffLanguage = StreamLanguage.define({
  token(stream) {
    if (stream.eatSpace()) return null;
    if (stream.match("#")) { stream.skipToEnd(); return "comment"; }
    if (stream.match(/^"(?:[^"\\]|\\.)*"?/)) return "string";
    if (stream.match(/^\d[\d.:_-]*(?:[A-Za-z%+]+)?/)) return "number";
    if (stream.match(/^[A-Za-z_\u4e00-\u9fff][\w\u4e00-\u9fff]*/)) {
      return KEYWORDS.has(stream.current()) ? "keyword" : "variableName";
    }
    stream.next();
    return null;
  },
});

function offset(doc, line, column) {
  // The checker counts lines and columns from 1, columns in characters (code points).
  const n = Math.min(Math.max(line, 1), doc.lines);
  const text = doc.line(n);
  let pos = text.from;
  let col = 1;
  for (const ch of text.text) {
    if (col >= column) break;
    pos += ch.length;
    col += 1;
  }
  return Math.min(pos, text.to);
}

export function mount(parent, options) {
  const { text, path, checkUrl, onDiagnostics, onChange } = options;
  let generation = 0;

  const serverLint = linter(async (view) => {
    const asked = ++generation;
    const body = JSON.stringify({ path, text: view.state.doc.toString() });
    let answer;
    try {
      const response = await fetch(checkUrl, {
        method: "POST", headers: { "content-type": "application/json" }, body,
        credentials: "same-origin",
      });
      answer = await response.json();
      if (!response.ok) answer = { diagnostics: [], error: answer.error || response.statusText };
    } catch (error) {
      answer = { diagnostics: [], error: String(error) };
    }
    if (asked !== generation) return [];
    if (onDiagnostics) onDiagnostics(answer);
    const doc = view.state.doc;
    return (answer.diagnostics || []).filter((d) => d.path === path).map((d) => {
      const from = offset(doc, d.line, d.column);
      let to = offset(doc, d.end_line || d.line, d.end_column || d.column + 1);
      if (to <= from) to = Math.min(from + 1, doc.length);
      return {
        from, to,
        severity: d.severity === "error" ? "error" : d.severity === "warning" ? "warning" : "info",
        message: `${d.line}:${d.column} ${d.message}${d.hint ? "\n" + d.hint : ""}`,
        source: d.code,
      };
    });
  }, { delay: 300 });

  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: text,
      extensions: [
        lineNumbers(), highlightActiveLineGutter(), history(), drawSelection(),
        highlightActiveLine(), bracketMatching(), highlightSelectionMatches(),
        tariffLanguage, syntaxHighlighting(defaultHighlightStyle),
        lintGutter(), serverLint,
        keymap.of([...defaultKeymap, ...historyKeymap, ...searchKeymap, indentWithTab]),
        EditorView.lineWrapping,
        EditorView.updateListener.of((update) => {
          if (update.docChanged && onChange) onChange();
        }),
      ],
    }),
  });

  return {
    view,
    getText: () => view.state.doc.toString(),
    setText: (next) => {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: next } });
    },
    lintNow: () => forceLinting(view),
  };
}
