import { h } from './dom.js';

/**
 * A JSON value pretty-printed as a <pre>, built from text nodes; each value whose JSON path
 * (`redirect_uris[1]`, `jwks.keys[0]`) a finding names is marked, with the finding's codes.
 */
export function jsonView(value, marks = new Map()) {
  const pre = h('pre', { class: 'json', tabindex: '0' });
  render(pre, value, '', 0, marks);
  return pre;
}

function render(out, value, path, depth, marks) {
  const pad = '  '.repeat(depth);
  const codes = marks.get(path);
  const target = codes ? h('mark', { title: codes.join(', ') }) : out;
  if (codes) out.append(target);
  if (Array.isArray(value)) {
    if (value.length === 0) target.append('[]');
    else {
      target.append('[\n');
      value.forEach((item, i) => {
        target.append(`${pad}  `);
        render(target, item, `${path}[${i}]`, depth + 1, marks);
        target.append(i < value.length - 1 ? ',\n' : '\n');
      });
      target.append(`${pad}]`);
    }
  } else if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0) target.append('{}');
    else {
      target.append('{\n');
      keys.forEach((key, i) => {
        const child = path ? `${path}.${key}` : key;
        target.append(`${pad}  `, h('span', { class: 'json-key' }, JSON.stringify(key)), ': ');
        render(target, value[key], child, depth + 1, marks);
        target.append(i < keys.length - 1 ? ',\n' : '\n');
      });
      target.append(`${pad}}`);
    }
  } else {
    target.append(h('span', { class: `json-${value === null ? 'null' : typeof value}` }, JSON.stringify(value)));
  }
  if (codes) out.append(h('span', { class: 'json-note' }, `  ⟵ ${codes.join(', ')}`));
}

/** Findings by the JSON path they point at. */
export function marksOf(findings) {
  const marks = new Map();
  for (const f of findings) {
    if (f.field === undefined) continue;
    marks.set(f.field, [...(marks.get(f.field) ?? []), f.code]);
  }
  return marks;
}
