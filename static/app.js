// Moat's behaviour on top of htmx. Everything here is an enhancement: every flow also works
// as plain links and forms without JavaScript.

// Every htmx request carries the CSRF token from the page's meta tag.
document.addEventListener('htmx:configRequest', (event) => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) event.detail.headers['X-CSRF-Token'] = meta.content;
});

// Toasts: the server names them in an HX-Trigger header (moat:toast); they are read out by
// the polite live region and fade after a few seconds.
document.addEventListener('moat:toast', (event) => {
  const region = document.getElementById('toasts');
  const message = event.detail && event.detail.value;
  if (!region || !message) return;
  const toast = document.createElement('div');
  toast.className = 'toast';
  toast.setAttribute('data-testid', 'toast');
  toast.textContent = message;
  region.appendChild(toast);
  setTimeout(() => toast.remove(), 5000);
});

// A filter panel's Filters button counts the filters set, as they change.
document.addEventListener('change', (event) => {
  const panel = event.target.closest && event.target.closest('[data-filter-panel]');
  const count = panel && panel.querySelector('[data-filter-count]');
  if (!count) return;
  const set = [...panel.querySelectorAll('[data-filter]')].filter((el) => el.value !== '').length;
  count.textContent = set ? `(${set})` : '';
});

// The content region says when it is loading, for assistive technology and for tests.
document.addEventListener('htmx:beforeRequest', () => document.getElementById('content')?.setAttribute('aria-busy', 'true'));
document.addEventListener('htmx:afterRequest', () => document.getElementById('content')?.removeAttribute('aria-busy'));

// After a page-like swap, focus moves to the new content's autofocus field or heading, so
// keyboard and screen reader users land where the page changed.
document.addEventListener('htmx:afterSettle', (event) => {
  const target = event.detail.target;
  if (!target || target.id !== 'content') return;
  const field = target.querySelector('[autofocus]');
  const heading = target.querySelector('h1');
  if (field) {
    field.focus();
  } else if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
  }
});

function typing(el) {
  return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
}

// Keyboard: / search, n new customer, e edit, Esc closes a form or dialog, Ctrl+Enter saves.
document.addEventListener('keydown', (event) => {
  const active = document.activeElement;
  if ((event.ctrlKey || event.metaKey) && event.key === 'Enter') {
    const form = active && active.closest && active.closest('form');
    if (form) {
      event.preventDefault();
      form.requestSubmit();
    }
    return;
  }
  if (event.key === 'Escape') {
    const open = document.querySelector('details[open]');
    if (open) {
      open.removeAttribute('open');
      return;
    }
    const close = document.querySelector('#bulk-confirm-dialog [data-close], #customer-form [data-close]');
    if (close) {
      event.preventDefault();
      close.click();
    }
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey || typing(active)) return;
  if (event.key === '/') {
    const search = document.getElementById('q');
    if (search) {
      event.preventDefault();
      search.focus();
      search.select();
    }
    return;
  }
  const shortcut = document.querySelector(`[data-shortcut="${CSS.escape(event.key)}"]`);
  if (shortcut) {
    event.preventDefault();
    shortcut.click();
  }
});

// Selecting rows: the header box selects the page; the bar counts what is selected.
function updateSelection(form) {
  const label = form.querySelector('[data-selected-count]');
  const all = form.querySelector('[data-select-all-matching]');
  const rows = form.querySelectorAll('[data-select-row]');
  const chosen = form.querySelectorAll('[data-select-row]:checked').length;
  const page = form.querySelector('[data-select-page]');
  if (page) {
    page.checked = rows.length > 0 && chosen === rows.length;
    page.indeterminate = chosen > 0 && chosen < rows.length;
  }
  if (!label) return;
  if (all && all.checked) {
    label.textContent = 'Every customer that matches is selected.';
  } else if (chosen === 0) {
    label.textContent = 'None selected.';
  } else {
    label.textContent = `${chosen} selected.`;
  }
}

document.addEventListener('change', (event) => {
  const el = event.target;
  const form = el.closest && el.closest('form');
  if (!form) return;
  if (el.matches('[data-select-page]')) {
    form.querySelectorAll('[data-select-row]').forEach((box) => { box.checked = el.checked; });
  }
  if (el.matches('[data-select-page], [data-select-row], [data-select-all-matching]')) updateSelection(form);
});

// Repeated rows (emails, phones): "Add another" copies the last row, emptied.
function enableRepeats(root) {
  root.querySelectorAll('[data-repeat-add]').forEach((button) => { button.hidden = false; });
}
document.addEventListener('click', (event) => {
  const button = event.target.closest && event.target.closest('[data-repeat-add]');
  if (!button) return;
  const group = button.closest('[data-repeat]');
  const rows = group.querySelectorAll('[data-repeat-row]');
  if (rows.length >= 10) return;
  const copy = rows[rows.length - 1].cloneNode(true);
  const n = rows.length;
  copy.querySelectorAll('input, select, label').forEach((el) => {
    if (el.id) el.id = el.id.replace(/-\d+$/, `-${n}`);
    if (el.htmlFor) el.htmlFor = el.htmlFor.replace(/-\d+$/, `-${n}`);
    if (el.tagName === 'INPUT') {
      el.value = '';
      el.removeAttribute('aria-invalid');
      el.removeAttribute('aria-describedby');
    }
  });
  copy.querySelectorAll('label.sr-only').forEach((label) => {
    label.textContent = label.textContent.replace(/\d+/, String(n + 1));
  });
  rows[rows.length - 1].after(copy);
  copy.querySelector('input').focus();
});
document.addEventListener('DOMContentLoaded', () => enableRepeats(document));
document.addEventListener('htmx:afterSettle', (event) => enableRepeats(event.detail.target));

// The invoice editor's line buttons: with JavaScript they add and remove rows in place (and the
// totals follow); without it they post the form, which comes back with a line more or fewer.
function renumberLines(list) {
  list.querySelectorAll('[data-line]').forEach((row, i) => {
    const n = i + 1;
    row.querySelectorAll('input, select, label').forEach((el) => {
      if (el.id) el.id = el.id.replace(/-(\d+|new)$/, `-${n}`);
      if (el.htmlFor) el.htmlFor = el.htmlFor.replace(/-(\d+|new)$/, `-${n}`);
    });
    const remove = row.querySelector('[data-remove-line]');
    remove.value = `remove-${n}`;
    remove.setAttribute('aria-label', `Remove line ${n}`);
  });
  document.body.dispatchEvent(new Event('moat:lines'));
}
document.addEventListener('click', (event) => {
  const button = event.target.closest && event.target.closest('[data-add-line], [data-remove-line]');
  if (!button) return;
  const list = document.getElementById('lines');
  const template = document.getElementById('line-template');
  if (!list || !template) return;
  event.preventDefault();
  if (button.matches('[data-add-line]')) {
    const rows = list.querySelectorAll('[data-line]');
    if (rows.length >= 200) return;
    const row = template.content.firstElementChild.cloneNode(true);
    row.querySelector('[name="line_quantity"]').value = '1';
    row.querySelector('[name="line_discount"]').value = '0';
    const last = rows[rows.length - 1];
    if (last) row.querySelector('[name="line_tax_rate"]').value = last.querySelector('[name="line_tax_rate"]').value;
    list.append(row);
    renumberLines(list);
    row.querySelector('input').focus();
    return;
  }
  const row = button.closest('[data-line]');
  const next = row.nextElementSibling || row.previousElementSibling;
  row.remove();
  renumberLines(list);
  (next ? next.querySelector('input') : document.querySelector('[data-add-line]')).focus();
});

// Imports: a file is sent in parts of 192 KiB (each request stays under the server's body
// limit), with a progress bar; without JavaScript the form uploads files of up to 256 KiB.
document.addEventListener('submit', async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-import-upload')) return;
  const file = form.querySelector('input[type=file]')?.files?.[0];
  if (!file) return; // pasted rows go as a plain form
  event.preventDefault();
  const token = form.querySelector('input[name=_csrf]')?.value || '';
  const bar = form.querySelector('[data-import-progress]');
  const fail = (message) => {
    let alert = form.querySelector('[data-import-error]');
    if (!alert) {
      alert = document.createElement('div');
      alert.setAttribute('role', 'alert');
      alert.setAttribute('data-import-error', '');
      alert.className = 'rounded-md border border-rose-200 bg-rose-50 px-4 py-3 text-sm text-rose-800';
      form.prepend(alert);
    }
    alert.textContent = message;
    bar?.classList.add('hidden');
  };
  const post = (url, body, type) =>
    fetch(url, { method: 'POST', body, credentials: 'same-origin', headers: { 'X-CSRF-Token': token, ...(type ? { 'Content-Type': type } : {}) } });
  bar?.classList.remove('hidden');
  const target = form.querySelector('[name=target]')?.value || 'customers';
  const begin = await post('/imports/parts', new URLSearchParams({ name: file.name, target }), 'application/x-www-form-urlencoded');
  if (!begin.ok) return fail('The upload could not start. Reload the page and try again.');
  const { id } = await begin.json();
  const part = 192 * 1024;
  for (let seq = 0, at = 0; at < file.size; seq++, at += part) {
    const res = await post(`/imports/${id}/parts/${seq}`, file.slice(at, at + part), 'application/octet-stream');
    if (!res.ok) return fail((await res.json().catch(() => ({}))).error || 'The upload stopped. Try again.');
    if (bar) bar.value = Math.round((100 * Math.min(at + part, file.size)) / file.size);
  }
  const done = await post(`/imports/${id}/finish`);
  if (!done.ok) return fail((await done.json().catch(() => ({}))).error || 'The file could not be read.');
  window.location.assign(done.url);
});
