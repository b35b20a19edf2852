/** @module Small pieces the console's pages share: a table head, and a destructive action behind a confirmation. */

/** Column headings; an empty string is an unlabelled column (actions). */
export function TableHead(p: { columns: readonly string[] }) {
  return (
    <thead>
      <tr>
        {p.columns.map((c) => (
          <th>{c}</th>
        ))}
      </tr>
    </thead>
  );
}

/** A POST form with one red button; the console script asks `confirm` first (without JavaScript it just posts). */
export function DangerButton(p: { action: string; confirm: string; label: string }) {
  return (
    <form method="post" action={p.action} data-confirm={p.confirm}>
      <button type="submit" class="danger">
        {p.label}
      </button>
    </form>
  );
}
