// A code editor without libraries: a <textarea> with transparent text over a <pre> holding the same text,
// highlighted. The textarea does all the editing (selection, undo, IME, accessibility); the <pre> only paints.

const words = (s) => new Set(s.split(/\s+/).filter(Boolean));

const C_LIKE = { line: '//', block: ['/*', '*/'] };

/** What the tokenizer needs of each language: comments, string delimiters, keywords, constants. */
export const LANGUAGES = {
  python: {
    line: '#',
    strings: ['"""', "'''", '"', "'"],
    prefixes: /^[rbfuRBFU]{1,2}$/,
    keywords: words(`and as assert async await break class continue def del elif else except finally for from global
      if import in is lambda match case nonlocal not or pass raise return try while with yield`),
    constants: words('True False None self'),
  },
  javascript: {
    ...C_LIKE,
    strings: ['`', '"', "'"],
    keywords: words(`async await break case catch class const continue debugger default delete do else export extends
      finally for function if import in instanceof let new of return static super switch this throw try typeof var
      void while with yield from`),
    constants: words('true false null undefined NaN Infinity module exports require'),
  },
  go: {
    ...C_LIKE,
    strings: ['`', '"', "'"],
    raw: ['`'],
    keywords: words(`break case chan const continue default defer else fallthrough for func go goto if import interface
      map package range return select struct switch type var`),
    constants: words('true false nil iota string int int64 float64 bool byte rune error any'),
  },
  java: {
    ...C_LIKE,
    strings: ['"""', '"', "'"],
    keywords: words(`abstract assert break case catch class continue default do else enum extends final finally for if
      implements import instanceof interface native new package private protected public record return static super
      switch synchronized this throw throws transient try var void volatile while yield sealed permits`),
    constants: words('true false null String int long double float boolean char byte short'),
  },
  shell: {
    line: '#',
    lineNeedsSpace: true, // $# and ${#x} are not comments
    strings: ['"', "'"],
    raw: ["'"],
    keywords: words(`if then else elif fi for in do done while until case esac function return local export readonly
      declare exit set shift break continue`),
    constants: words('echo printf read cd test true false source eval exec trap'),
  },
};

const escapeHtml = (t) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const span = (cls, text) => `<span class="tok-${cls}">${escapeHtml(text)}</span>`;

const IDENT = /[A-Za-z_$][\w$]*/y;
const NUMBER = /(?:0[xX][\da-fA-F_]+|0[bB][01_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?)[lLfFdDn]?/y;

/** Where a string that opens at i with delimiter q ends (just past its closing delimiter, or the line's end). */
function stringEnd(code, i, q, lang) {
  const multiline = q.length === 3 || q === '`';
  const escapes = !(lang.raw && lang.raw.includes(q));
  let j = i + q.length;
  while (j < code.length) {
    const c = code[j];
    if (escapes && c === '\\') {
      j += 2;
      continue;
    }
    if (code.startsWith(q, j)) return j + q.length;
    if (c === '\n' && !multiline) return j; // unterminated: stop at the line's end
    j++;
  }
  return code.length;
}

/**
 * @returns HTML of the code with keywords, strings, comments, numbers and constants in <span class="tok-*">;
 *          everything else escaped. Never throws: an unknown language is plain text.
 */
export function highlight(code, language) {
  const lang = LANGUAGES[language];
  if (!lang) return escapeHtml(code);
  let out = '';
  let plain = '';
  let i = 0;
  const flush = () => {
    if (plain) out += escapeHtml(plain);
    plain = '';
  };
  while (i < code.length) {
    const c = code[i];
    // comments
    if (lang.block && code.startsWith(lang.block[0], i)) {
      const end = code.indexOf(lang.block[1], i + 2);
      const j = end < 0 ? code.length : end + 2;
      flush();
      out += span('c', code.slice(i, j));
      i = j;
      continue;
    }
    if (code.startsWith(lang.line, i) && (!lang.lineNeedsSpace || i === 0 || /\s/.test(code[i - 1]))) {
      let j = code.indexOf('\n', i);
      if (j < 0) j = code.length;
      flush();
      out += span('c', code.slice(i, j));
      i = j;
      continue;
    }
    // strings
    const q = lang.strings.find((d) => code.startsWith(d, i));
    if (q) {
      const j = stringEnd(code, i, q, lang);
      flush();
      out += span('s', code.slice(i, j));
      i = j;
      continue;
    }
    // identifiers: keywords and constants (a Python string prefix such as f"..." goes with its string)
    if (/[A-Za-z_$]/.test(c)) {
      IDENT.lastIndex = i;
      const word = IDENT.exec(code)[0];
      const after = i + word.length;
      if (lang.prefixes && lang.prefixes.test(word) && lang.strings.some((d) => code.startsWith(d, after))) {
        const d = lang.strings.find((x) => code.startsWith(x, after));
        const j = stringEnd(code, after, d, lang);
        flush();
        out += span('s', code.slice(i, j));
        i = j;
        continue;
      }
      if (lang.keywords.has(word)) {
        flush();
        out += span('k', word);
      } else if (lang.constants.has(word)) {
        flush();
        out += span('l', word);
      } else {
        plain += word;
      }
      i = after;
      continue;
    }
    // numbers, not inside a word (x1) and not a shell variable ($1)
    if (/[\d.]/.test(c) && !/[\w$]/.test(code[i - 1] || '')) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(code);
      if (m && m[0] !== '.' && /\d/.test(m[0])) {
        flush();
        out += span('n', m[0]);
        i += m[0].length;
        continue;
      }
    }
    plain += c;
    i++;
  }
  flush();
  return out;
}

/**
 * An editor: {element, textarea, value, setLanguage(language), onChange(fn)}. Tab indents (Escape, then Tab, leaves
 * the editor, so the keyboard is never trapped); Enter keeps the line's indentation.
 */
export function createEditor({ id, value = '', language = 'plain', label, rows = 16 } = {}) {
  const wrap = document.createElement('div');
  wrap.className = 'editor';
  const pre = document.createElement('pre');
  pre.className = 'editor-hl';
  pre.setAttribute('aria-hidden', 'true');
  const codeEl = document.createElement('code');
  pre.append(codeEl);
  const textarea = document.createElement('textarea');
  textarea.className = 'editor-input';
  if (id) textarea.id = id;
  textarea.rows = rows;
  textarea.spellcheck = false;
  textarea.setAttribute('autocapitalize', 'off');
  textarea.setAttribute('autocomplete', 'off');
  textarea.setAttribute('autocorrect', 'off');
  textarea.setAttribute('wrap', 'off');
  if (label) textarea.setAttribute('aria-label', label);
  textarea.value = value;
  wrap.append(pre, textarea);

  let lang = language;
  let frame = 0;
  const listeners = [];
  const paint = () => {
    frame = 0;
    // The extra line keeps the <pre> as tall as the textarea when the text ends with a newline.
    codeEl.innerHTML = highlight(textarea.value, lang) + '\n ';
    sync();
  };
  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(paint);
  };
  const sync = () => {
    pre.scrollTop = textarea.scrollTop;
    pre.scrollLeft = textarea.scrollLeft;
  };
  const indentUnit = () => (lang === 'go' ? '\t' : lang === 'javascript' || lang === 'shell' ? '  ' : '    ');

  let escaped = false;
  textarea.addEventListener('input', () => {
    schedule();
    listeners.forEach((fn) => fn(textarea.value));
  });
  textarea.addEventListener('scroll', sync);
  textarea.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      escaped = true;
      return;
    }
    const wasEscaped = escaped;
    escaped = false;
    if (e.key === 'Tab' && !wasEscaped && !e.ctrlKey && !e.altKey && !e.metaKey) {
      e.preventDefault();
      const { selectionStart: start, selectionEnd: end } = textarea;
      if (e.shiftKey) {
        const lineStart = textarea.value.lastIndexOf('\n', start - 1) + 1;
        const m = /^( {1,4}|\t)/.exec(textarea.value.slice(lineStart));
        if (m) {
          textarea.setRangeText('', lineStart, lineStart + m[0].length, 'end');
          textarea.selectionStart = textarea.selectionEnd = Math.max(lineStart, start - m[0].length);
        }
      } else {
        textarea.setRangeText(indentUnit(), start, end, 'end');
      }
      textarea.dispatchEvent(new Event('input'));
    } else if (e.key === 'Enter' && !e.shiftKey && !e.ctrlKey && !e.metaKey && !e.isComposing) {
      const start = textarea.selectionStart;
      const lineStart = textarea.value.lastIndexOf('\n', start - 1) + 1;
      const indent = /^[ \t]*/.exec(textarea.value.slice(lineStart, start))[0];
      const opens = /[:{([]\s*$/.test(textarea.value.slice(lineStart, start));
      e.preventDefault();
      textarea.setRangeText('\n' + indent + (opens ? indentUnit() : ''), start, textarea.selectionEnd, 'end');
      textarea.dispatchEvent(new Event('input'));
    }
  });
  paint();

  return {
    element: wrap,
    textarea,
    get value() {
      return textarea.value;
    },
    set value(v) {
      textarea.value = v;
      paint();
    },
    setLanguage(l) {
      lang = l;
      paint();
    },
    onChange(fn) {
      listeners.push(fn);
    },
  };
}
