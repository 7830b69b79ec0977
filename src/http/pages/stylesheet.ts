/** The one stylesheet of the relay's pages, served at /assets/relay.css (no inline styles, for CSP). */
export const STYLESHEET = `
:root { --fg: #1d1c1d; --muted: #616061; --line: #dddddd; --bg: #f8f8f8; --accent: #4a154b; --ok: #007a5a; --bad: #c9372c; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header.top { background: var(--accent); padding: 0.75rem 1rem; }
header.top a.brand { color: #fff; font-weight: 700; text-decoration: none; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.25rem; margin: 1rem 0; }
.card.success h1 { color: var(--ok); }
.card.error h1 { color: var(--bad); }
h1 { font-size: 1.5rem; margin: 0 0 0.5rem; }
h2 { font-size: 1.15rem; margin: 1.25rem 0 0.5rem; }
a { color: #1264a3; }
a.button, button { display: inline-block; font: inherit; padding: 0.45rem 0.9rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; text-decoration: none; cursor: pointer; }
a.button.secondary, button.secondary { background: #fff; color: var(--accent); }
a.button:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid #1264a3; outline-offset: 2px; }
table { width: 100%; border-collapse: collapse; background: #fff; }
th, td { text-align: left; padding: 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
label { display: block; font-weight: 600; margin-top: 0.75rem; }
input, select { font: inherit; width: 100%; padding: 0.45rem; border: 1px solid #bbb; border-radius: 6px; }
.help { color: var(--muted); font-size: 0.875rem; margin: 0.2rem 0 0; }
.field-error { color: var(--bad); font-size: 0.875rem; margin: 0.2rem 0 0; }
.badge { display: inline-block; padding: 0.1rem 0.5rem; border-radius: 999px; font-size: 0.8rem; background: #eee; }
.badge.ok { background: #e3f5ee; color: var(--ok); }
.badge.bad { background: #fbe9e7; color: var(--bad); }
.icon { vertical-align: -2px; }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 1rem 0 0; padding: 0 0.75rem 0.75rem; }
.grid { display: grid; gap: 0 1rem; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); }
@media (max-width: 40rem) { th.optional, td.optional { display: none; } main { padding: 0.5rem; } }
`;
