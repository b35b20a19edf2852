/** @module How the console calls the node's own admin API in-process, and the refusal it turns a non-2xx answer into. */
/** An admin API refusal, shown to the operator as the node's message. */
export class AdminRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "AdminRefusal";
  }
}

/** A typed admin API call: JSON in and out, a refusal as AdminRefusal carrying the node's message. */
export function adminCaller(
  admin: (req: Request) => Response | Promise<Response>,
  adminToken: string,
): <T>(method: string, path: string, body?: unknown) => Promise<T> {
  return async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await admin(
      new Request(`http://console.local/admin${path}`, {
        method,
        headers: {
          authorization: `Bearer ${adminToken}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    );
    const text = await res.text();
    if (!res.ok) {
      let msg = `HTTP ${res.status}`;
      try {
        msg = (JSON.parse(text) as { error: { message: string } }).error.message;
      } catch {
        // keep the status
      }
      throw new AdminRefusal(res.status, msg);
    }
    return (text ? JSON.parse(text) : null) as T;
  };
}

/** datetime-local (UTC by the page's label) to unix ms; empty is no bound. */
export function parseUtcInput(v: string | undefined, field: string): number | undefined {
  if (!v) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$/.test(v))
    throw new AdminRefusal(400, `${field}: use YYYY-MM-DDTHH:MM`);
  const ms = Date.parse(v.length === 10 ? `${v}T00:00:00Z` : `${v}Z`);
  if (Number.isNaN(ms)) throw new AdminRefusal(400, `${field}: not a date`);
  return ms;
}
